import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { redisAnswers } from '../shared/redis.js';

/** Where `up` keeps its private Redis: data (AOF), config and the URL with the password, all 0700/0600. */
export const PRIVATE_REDIS_DIR = './data/redis';
/** The file holding the private Redis's URL, password included: what the other commands of this folder read. */
const URL_FILE = 'url';
/** The pid of the `up` that owns (and will stop) the private Redis. */
const OWNER_FILE = 'up.pid';
/** The password lives here for redis-server, never on its command line (other users read `ps`). */
const CONF_FILE = 'redis.conf';

/** The URL (with its password) of the private Redis an `up` in this folder started, when its file is there. */
export function privateRedisUrl(dataDir = PRIVATE_REDIS_DIR): string | undefined {
  try {
    const url = readFileSync(join(dataDir, URL_FILE), 'utf8').trim();
    // Only what `start` writes: a file edited into anything else is not taken for a Redis to use.
    return /^redis:\/\/:[0-9a-f]{64}@127\.0\.0\.1:\d+$/.test(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** That private Redis's URL when it answers with its password; a stale file (Redis gone) gives undefined. */
export async function runningPrivateRedis(dataDir = PRIVATE_REDIS_DIR): Promise<string | undefined> {
  const url = privateRedisUrl(dataDir);
  return url !== undefined && (await redisAnswers(url)) ? url : undefined;
}

/** The pid of another live `up` that owns this folder's private Redis; undefined when its owner is gone. */
export function liveOwner(dataDir = PRIVATE_REDIS_DIR): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, OWNER_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    // ESRCH, or EPERM: another user's process holds that pid now, not an `up` of ours.
    return undefined;
  }
}

/**
 * A redis-server that `up` starts for itself so that `npm start` works on a machine with no
 * Redis running: AOF on and noeviction, the settings BullMQ needs to lose nothing. It asks for a
 * random password, kept only in 0600 files of a 0700 folder, so other local users can neither
 * read the jobs nor forge answers; and it runs in a process group of its own, so a Ctrl-C on the
 * terminal reaches autopoll alone, which drains and only then stops it.
 */
export class PrivateRedis {
  private constructor(
    /** redis://:PASSWORD@127.0.0.1:PORT: for connections only, never for a log line. */
    readonly url: string,
    private readonly dataDir: string,
    private readonly child: ChildProcess | undefined,
  ) {}

  static async start(port: number, dataDir: string, logger: Logger): Promise<PrivateRedis> {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A folder made by an older autopoll (or by hand) may be readable by others: its AOF holds every job.
    restrictTree(dir);
    const password = randomBytes(32).toString('hex');
    const conf = join(dir, CONF_FILE);
    writePrivateFile(conf, redisConfig(port, dir, password));
    // The AOF files redis-server creates are then 0600 and its folder 0700, whatever the user's umask.
    const umask = process.umask(0o077);
    let child: ChildProcess;
    try {
      child = spawn('redis-server', [conf], { stdio: 'ignore', detached: true });
    } finally {
      process.umask(umask);
    }
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.once('error', () => undefined);
    const url = `redis://:${password}@127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url, 200)) {
        writePrivateFile(join(dir, OWNER_FILE), `${process.pid}\n`);
        writePrivateFile(join(dir, URL_FILE), `${url}\n`);
        logger.info(
          { port, dataDir: dir, redisPid: child.pid },
          `no Redis answered on 127.0.0.1:${port} and REDIS_URL is not set: started a private redis-server (AOF, noeviction) in a process group of its own; its password is in ${join(dir, URL_FILE)} (0600), which the other autopoll commands of this folder read; it stops after autopoll has drained`,
        );
        return new PrivateRedis(url, dir, child);
      }
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    await exited;
    throw new Error(`could not start redis-server on port ${port}; start one yourself or set REDIS_URL`);
  }

  /**
   * The private Redis an earlier `up` of this folder left running (it was killed with SIGKILL):
   * this `up` uses it and stops it in its turn, so it does not live on for ever.
   */
  static adopt(url: string, dataDir: string): PrivateRedis {
    const dir = resolve(dataDir);
    writePrivateFile(join(dir, OWNER_FILE), `${process.pid}\n`);
    return new PrivateRedis(url, dir, undefined);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
    else await shutdown(this.url);
    // Its URL now names nothing: the other commands go back to the default.
    for (const file of [URL_FILE, OWNER_FILE]) rmSync(join(this.dataDir, file), { force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** SHUTDOWN (which writes the AOF out) to a redis-server that is not this process's child; waits until it is gone. */
async function shutdown(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  // The server closes the connection instead of replying: the rejection is the success.
  await client.connect().then(() => client.shutdown()).catch(() => undefined);
  client.disconnect();
  for (let i = 0; i < 100 && (await redisAnswers(url, 200)); i++) await sleep(50);
}

/** redis.conf's lines; paths quoted as Redis reads them (backslash escapes inside double quotes). */
function redisConfig(port: number, dir: string, password: string): string {
  return [
    'bind 127.0.0.1',
    `port ${port}`,
    `dir ${JSON.stringify(dir)}`,
    'appendonly yes',
    'maxmemory-policy noeviction',
    'save ""',
    `requirepass ${password}`,
  ].join('\n') + '\n';
}

/** Written whole (a reader never sees half a URL) and 0600 from the start. */
function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The folder and its sub-folders 0700, its files 0600; symbolic links are left alone (never followed). */
function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}

/** Whether an executable of this name is on the PATH. */
export function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      accessSync(resolve(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
