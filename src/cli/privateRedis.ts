import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { knownSecrets } from '../shared/knownSecrets.js';
import { listenersOn, socketInodes } from './loopbackListener.js';
import { OWNER_FILE } from './privateRedisFolder.js';
import type { Logger } from '../shared/logger.js';
import { PRIVATE_REDIS_DIR } from '../shared/ownedFiles.js';
import { redisAnswers } from '../shared/redis.js';

/** The file holding the private Redis's URL, password included: what the other commands of this folder read. */
const URL_FILE = 'url';
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

/** The flag (and its variable) that moves the private Redis to another port: what every refusal below points to. */
export const PORT_FLAG = '--private-redis-port (env AUTOPOLL_PRIVATE_REDIS_PORT)';

/** What the url file names: this folder's private Redis, or something else answering on its port. */
export type RecordedRedis = { url: string; foreign?: undefined } | { url: string; foreign: string };

/**
 * The Redis the url file names when something answers there: `foreign` says why it is not this
 * folder's private one (another user's Redis can take a port a dead `up` left free); undefined
 * when there is no file or nothing answers.
 */
export async function recordedPrivateRedis(dataDir = PRIVATE_REDIS_DIR): Promise<RecordedRedis | undefined> {
  const url = privateRedisUrl(dataDir);
  if (url === undefined) return undefined;
  const verdict = await verifyPrivateRedis(url);
  if (verdict === 'gone') return undefined;
  return verdict === 'ours' ? { url } : { url, foreign: verdict.foreign };
}

/**
 * Whether the Redis at `url` is ours, judged before it is sent the password: every socket listening
 * for 127.0.0.1 on its port belongs to our user (the kernel's /proc/net/tcp, not what the server
 * says of itself), and to `pid` itself when given (the redis-server `start` spawned); then it takes
 * the password only our 0600 file holds (an explicit AUTH: ioredis lets a server with no password
 * accept any).
 */
async function verifyPrivateRedis(url: string, pid?: number, timeoutMs = 500): Promise<'ours' | 'gone' | { foreign: string }> {
  const { hostname, port, password } = new URL(url);
  // RESP2 and no ready check or client info: nothing is sent before the AUTH below (RESP3's HELLO would be refused).
  // Bounded: something that accepts the socket and never replies is no Redis of ours either.
  const client = new Redis({
    host: hostname, port: Number(port), protocol: 2, enableReadyCheck: false, disableClientInfo: true,
    lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, commandTimeout: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    client.disconnect();
    return 'gone';
  }
  try {
    // Judged once connected: the listener that accepted this connection is among those read here.
    const foreign = foreignListener(Number(port), { pid });
    if (foreign !== undefined) return { foreign };
    const authed = await client.call('AUTH', decodeURIComponent(password)).then(() => undefined, (err: Error) => err.message);
    if (authed !== undefined) return { foreign: `it refuses the password of ./data/redis/url: ${authed}` };
    return 'ours';
  } catch (err) {
    return { foreign: `it does not answer as a Redis: ${(err as Error).message}` };
  } finally {
    client.disconnect();
  }
}

/**
 * Why the sockets listening on 127.0.0.1:`port` are not ours: owned by a uid not in `uids` (ours by
 * default), or, `pid` given, not held by that process; undefined when they are ours.
 */
export function foreignListener(port: number, { pid, uids = [process.getuid?.()] }: { pid?: number; uids?: Array<number | undefined> } = {}): string | undefined {
  const listeners = listenersOn(port);
  if (listeners.length === 0) return `no listening socket for 127.0.0.1:${port} is found in /proc/net/tcp`;
  const stranger = listeners.find((l) => !uids.includes(l.uid));
  if (stranger !== undefined) return `its listening socket belongs to uid ${stranger.uid}, not to this user`;
  if (pid === undefined) return undefined;
  const held = socketInodes(pid);
  return listeners.every((l) => held.has(l.inode)) ? undefined : `its listening socket is not the one redis-server pid ${pid} just opened`;
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
    knownSecrets.add('redis-password', password);
    // The AOF files redis-server creates are then 0600 and its folder 0700, whatever the user's umask.
    const umask = process.umask(0o077);
    let child: ChildProcess;
    try {
      // Only PATH from autopoll's environment: the API key and tokens have no business in redis-server's /proc/PID/environ.
      child = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { PATH: process.env.PATH ?? '' } });
    } finally {
      process.umask(umask);
    }
    const output = tailOf(child);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.once('error', () => undefined);
    const url = `redis://:${password}@127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      // Checked to be the child itself: another Redis may have taken the port between our probe and its bind.
      if ((await verifyPrivateRedis(url, child.pid, 200)) === 'ours') {
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
    logger.error({ port, redisOutput: output.join('\n') }, `redis-server did not start on 127.0.0.1:${port}; its last lines of output are in redisOutput`);
    throw new Error(`could not start a private redis-server on 127.0.0.1:${port} (its output is logged above): choose another port with ${PORT_FLAG}, or start a Redis yourself and set REDIS_URL`);
  }

  /**
   * The private Redis an earlier `up` of this folder left running (it was killed with SIGKILL):
   * this `up` uses it and stops it in its turn, so it does not live on for ever.
   */
  static adopt(url: string, dataDir: string): PrivateRedis {
    return new PrivateRedis(url, resolve(dataDir), undefined);
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

/** The last lines redis-server wrote (stdout and stderr): why it failed to start, when it did. */
function tailOf(child: ChildProcess, keep = 20): string[] {
  const lines: string[] = [];
  const add = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter((l) => l.trim() !== ''));
    lines.splice(0, Math.max(0, lines.length - keep));
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return lines;
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
