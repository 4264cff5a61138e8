import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { PrivateRedis } from '../../src/cli/privateRedis.js';
import { redisAnswers } from '../../src/shared/redis.js';
import { tempDir } from '../support/bridge.js';
import { AutopollProcess, runAutopoll, TerminalAutopoll } from '../support/cli.js';
import { alive } from '../support/claudeProcesses.js';
import { testPrefix } from '../support/pipeline.js';
import { freePort, RedisServer } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

/**
 * `up` with no --redis, as `npm start` runs it, each in a folder of its own: the private
 * redis-server it starts in ./data/redis. The machine may run its own Redis on 6379, so
 * --private-redis-port (through its variable: --redis keeps its default) points `up` elsewhere.
 */
const noRedisUrl = { REDIS_URL: undefined, AUTOPOLL_PREFIX: undefined };
const upEnv = async () => ({ ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: String(await freePort()) });
const UP = ['up', '--answerer', 'stub', '--port', '0'];

const urlFile = (cwd: string) => join(cwd, 'data/redis/url');
const readUrl = (cwd: string) => readFileSync(urlFile(cwd), 'utf8').trim();
const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);
/** A statement answered by the one Redis at `url`. */
async function onRedis<T>(url: string, use: (r: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}
const redisPid = (url: string) => onRedis(url, async (r) => Number(/process_id:(\d+)/.exec(await r.info('server'))![1]));
const mode = (path: string) => statSync(path).mode & 0o777;
/** The commands a Redis has run since its last CONFIG RESETSTAT, other than those a test's client sends it (HELLO, INFO, CONFIG). */
const commandsRun = (url: string) =>
  onRedis(url, async (r) => [...(await r.info('commandstats')).matchAll(/^cmdstat_([\w|]+):/gm)].map((m) => m[1]!).filter((c) => !/^(info|config|hello)\b/.test(c)));


/** A user that is not the test's: the listeners below run as it (spawning as another user takes root). */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
/** A process of user NOBODY, started in a folder it can enter; stopped with the test. */
function asNobody(command: string, args: string[], cwd: string): ChildProcess {
  chmodSync(cwd, 0o755);
  return spawn(command, args, { uid: NOBODY, gid: NOBODY, cwd, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '' } });
}
/**
 * A fake Redis: +OK to any AUTH, an INFO naming `pid` as its process_id; every command it receives
 * goes to its stdout, one JSON array a line, for the test to read.
 */
const FAKE_REDIS = `
const [port, pid] = process.argv.slice(1);
require('node:net').createServer((socket) => {
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk.toString('latin1');
    for (;;) {
      const m = /^\\*(\\d+)\\r\\n/.exec(buffered);
      if (!m) return;
      const args = []; let at = m[0].length;
      for (let i = 0; i < Number(m[1]); i++) {
        const b = /^\\$(\\d+)\\r\\n/.exec(buffered.slice(at));
        if (!b || buffered.length < at + b[0].length + Number(b[1]) + 2) return;
        args.push(buffered.slice(at + b[0].length, at + b[0].length + Number(b[1]))); at += b[0].length + Number(b[1]) + 2;
      }
      buffered = buffered.slice(at);
      process.stdout.write(JSON.stringify(args) + '\\n');
      const info = '# Server\\r\\nredis_version:7.0.0\\r\\nprocess_id:' + pid + '\\r\\n';
      socket.write(String(args[0]).toUpperCase() === 'INFO' ? '$' + info.length + '\\r\\n' + info + '\\r\\n' : '+OK\\r\\n');
    }
  });
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

describe("up's private Redis", () => {
  const running: Array<{ kill: () => Promise<unknown> }> = [];
  const servers: RedisServer[] = [];
  const folders: string[] = [];
  const folder = () => {
    const dir = tempDir();
    folders.push(dir);
    return dir;
  };

  /** An `up` in a folder of its own, up and serving with its private Redis. */
  const upRunning = async () => {
    const cwd = folder();
    const env = await upEnv();
    const first = new AutopollProcess(UP, env, { cwd });
    running.push(first);
    await first.waitForLog(/autopoll is up/);
    return { cwd, env, first, url: readUrl(cwd) };
  };

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    // A test that failed half-way may leave a private redis-server behind: stop it.
    for (const cwd of folders.splice(0)) {
      const url = existsSync(urlFile(cwd)) ? readUrl(cwd) : undefined;
      if (url && (await redisAnswers(url))) await PrivateRedis.adopt(url, join(cwd, 'data/redis')).stop();
    }
  });

  it('Ctrl-C on the terminal: the question in flight is answered, up exits 0, and its redis-server stops only then', async () => {
    const cwd = folder();
    const up = new TerminalAutopoll([...UP, '--stub-latency-ms', '6000', '--shutdown-timeout', '10'], await upEnv(), cwd);
    running.push(up);
    await up.waitForLine(/autopoll is up/);
    const url = readUrl(cwd);
    const pid = await redisPid(url);
    const asked = runAutopoll(['ask', 'what is 2+2?', '--wait', '30'], noRedisUrl, 60_000, cwd);
    await waitFor('the question in flight', () => onRedis(url, async (r) => (await r.llen('{autopoll}:questions:active')) > 0), 45_000, 50);

    expect(await up.interrupt()).toEqual({ code: 0, signal: null });
    const answer = await asked;
    expect(answer.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
    expect(answer.code).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(urlFile(cwd))).toBe(false);
    expect(up.screen).not.toContain(passwordOf(url));
  }, 120_000);

  it('refuses a client without its password; status and ask of the same folder reach it with no URL; its files are private; the password is printed nowhere', async () => {
    const cwd = folder();
    const env = await upEnv();
    const up = new AutopollProcess(UP, env, { cwd });
    running.push(up);
    const banner = await up.waitForLog(/autopoll is up/);
    expect(String(banner.msg)).toContain('Redis: the private redis-server in ./data/redis (password in ./data/redis/url)');
    const url = readUrl(cwd);
    const password = passwordOf(url);
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(new URL(url).port).toBe(env.AUTOPOLL_PRIVATE_REDIS_PORT);

    const plain = new Redis(`redis://127.0.0.1:${env.AUTOPOLL_PRIVATE_REDIS_PORT}`, { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    plain.on('error', () => undefined);
    await expect(plain.ping()).rejects.toThrow(/NOAUTH/);
    plain.disconnect();

    const dir = join(cwd, 'data/redis');
    expect(mode(dir)).toBe(0o700);
    for (const file of ['url', 'redis.conf']) expect(mode(join(dir, file)), file).toBe(0o600);
    expect(mode(join(dir, 'appendonlydir'))).toBe(0o700);
    const aof = readdirSync(join(dir, 'appendonlydir'));
    expect(aof.length).toBeGreaterThan(0);
    for (const file of aof) expect(mode(join(dir, 'appendonlydir', file)), file).toBe(0o600);
    // Not on redis-server's command line, which every local user reads in ps.
    expect(readFileSync(`/proc/${await redisPid(url)}/cmdline`, 'utf8')).not.toContain(password);

    const status = await runAutopoll(['status'], noRedisUrl, 30_000, cwd);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    // up's consumer is the questions queue's one worker: this is up's Redis.
    expect(status.stdout).toMatch(/^\s*questions(\s+\d+){7}\s+1$/m);
    const asked = await runAutopoll(['ask', 'what is 2+2?', '--wait', '30'], noRedisUrl, 60_000, cwd);
    expect(asked.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
    expect(asked.code).toBe(0);
    // A question quoting the password: the job data up's producer stores is scrubbed of it (up read it from its file).
    const quoting = await runAutopoll(['ask', `is ${password} a good password?`, '--wait', '30'], noRedisUrl, 60_000, cwd);
    expect(quoting.code).toBe(0);
    const stored = await onRedis(url, async (r) => {
      const keys = await r.keys('{autopoll}:questions:*');
      const hashes = await Promise.all(keys.map(async (k) => ((await r.type(k)) === 'hash' ? JSON.stringify(await r.hgetall(k)) : '')));
      return hashes.join('\n');
    });
    expect(stored).toContain('[REDACTED:redis-password]');

    for (const output of [JSON.stringify(up.lines), up.stderr, status.stdout, asked.stdout, asked.stderr, stored]) expect(output).not.toContain(password);
  });

  it('outlives a kill -9 of up (its own process group); the next up of the folder takes it over and stops it', async () => {
    const { cwd, env, first, url } = await upRunning();
    const pid = await redisPid(url);
    await first.kill('SIGKILL');

    expect(await redisAnswers(url)).toBe(true);
    const status = await runAutopoll(['status'], noRedisUrl, 30_000, cwd);
    expect(status.code).toBe(0);
    // The dead up's pid now names a live process that is no autopoll: it owns nothing.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    running.push({ kill: async () => stranger.kill() });
    writeFileSync(join(cwd, 'data/redis/up.pid'), `${stranger.pid}\n`);

    const second = new AutopollProcess(UP, env, { cwd });
    running.push(second);
    await second.waitForLog(/^using the private redis-server in \.\/data\/redis .* that an earlier `up` of this folder left running; it stops with this one$/);
    await second.waitForLog(/autopoll is up/);
    expect(await redisPid(url)).toBe(pid);
    expect(await second.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
    expect(existsSync(urlFile(cwd))).toBe(false);
  });

  it('a Redis already answering on 127.0.0.1: up warns so in one line, uses it and starts none', async () => {
    const cwd = folder();
    const port = new URL(inject('redisUrl')).port;
    const up = new AutopollProcess(UP, { ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: port, AUTOPOLL_PREFIX: testPrefix() }, { cwd });
    running.push(up);
    const shared = `redis://127.0.0.1:${port}`;
    const using = await up.waitForLog(new RegExp(`^using the Redis already running at ${shared} \\(not starting a private one\\); set REDIS_URL to choose another$`));
    // A warning: nothing tells whose Redis that is.
    expect(using.level).toBe(40);
    expect(String((await up.waitForLog(/autopoll is up/)).msg)).toContain(`Redis: ${shared}.`);
    expect(existsSync(join(cwd, 'data/redis'))).toBe(false);
  });

  it('a second up in the same folder is refused while the first runs; the first keeps serving', async () => {
    const { cwd, env, first, url } = await upRunning();

    const second = await runAutopoll(UP, env, 30_000, cwd);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toContain(`another \`up\` (pid ${first.child.pid}) already runs in this folder`);
    expect(await redisAnswers(url)).toBe(true);
    const asked = await runAutopoll(['ask', 'what is 2+2?', '--wait', '30'], noRedisUrl, 60_000, cwd);
    expect(asked.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
  }, 90_000);

  it("a Redis with no password where ./data/redis/url says the private one was: up refuses it naming the port flag, status warns; neither sends it a command but AUTH", async () => {
    const cwd = folder();
    const foreign = await RedisServer.start();
    servers.push(foreign);
    mkdirSync(join(cwd, 'data/redis'), { recursive: true, mode: 0o700 });
    writeFileSync(urlFile(cwd), `redis://:${'ab'.repeat(32)}@127.0.0.1:${foreign.port}\n`, { mode: 0o600 });
    await onRedis(foreign.url, (r) => r.config('RESETSTAT'));

    const up = await runAutopoll(UP, { ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: String(foreign.port) }, 30_000, cwd);
    expect(up.code).not.toBe(0);
    expect(up.stdout + up.stderr).toContain(`the Redis answering there is not this folder's private one`);
    expect(up.stdout + up.stderr).toContain('--private-redis-port (env AUTOPOLL_PRIVATE_REDIS_PORT)');
    const status = await runAutopoll(['status'], noRedisUrl, 30_000, cwd);
    expect(status.stderr).toContain(`warning: ./data/redis/url names 127.0.0.1:${foreign.port}, but the Redis answering there is not this folder's private one`);
    expect(await commandsRun(foreign.url)).toEqual(['auth']);
  }, 90_000);

  it.runIf(asRoot)("a fake Redis of another user where ./data/redis/url says the private one was, naming a real redis-server's pid: up refuses it and status does not use it; it never gets the password", async () => {
    const cwd = folder();
    const real = await RedisServer.start();
    servers.push(real);
    const port = await freePort();
    const fake = asNobody(process.execPath, ['-e', FAKE_REDIS, String(port), String(await redisPid(real.url))], folder());
    running.push({ kill: async () => fake.kill() });
    let received = '';
    fake.stdout!.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await waitFor('the fake Redis', async () => received.includes('listening\n'), 10_000, 50);
    const password = 'cd'.repeat(32);
    mkdirSync(join(cwd, 'data/redis'), { recursive: true, mode: 0o700 });
    writeFileSync(urlFile(cwd), `redis://:${password}@127.0.0.1:${port}\n`, { mode: 0o600 });

    const up = await runAutopoll(UP, { ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: String(port) }, 30_000, cwd);
    expect(up.code).not.toBe(0);
    expect(up.stdout + up.stderr).toContain(`the Redis answering there is not this folder's private one (its listening socket belongs to uid ${NOBODY}, not to this user)`);
    const status = await runAutopoll(['status'], noRedisUrl, 30_000, cwd);
    expect(status.stderr).toContain(`warning: ./data/redis/url names 127.0.0.1:${port}, but the Redis answering there is not this folder's private one`);
    expect(received).not.toContain(password);
    expect(received).not.toMatch(/AUTH/i);
  }, 90_000);

  it.runIf(asRoot)('a Redis with no password of another user on the private port of a fresh folder: up refuses it, naming the port flag and REDIS_URL', async () => {
    const cwd = folder();
    const port = await freePort();
    const theirs = asNobody('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], folder());
    running.push({ kill: async () => theirs.kill() });
    await waitFor('their Redis', () => redisAnswers(`redis://127.0.0.1:${port}`), 10_000, 50);

    const up = await runAutopoll(UP, { ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: String(port) }, 30_000, cwd);
    expect(up.code).not.toBe(0);
    expect(up.stdout + up.stderr).toContain(`a Redis answers at redis://127.0.0.1:${port} with no password, but it is neither this user's nor the system redis user's (its listening socket belongs to uid ${NOBODY}, not to this user)`);
    expect(up.stdout + up.stderr).toContain('--private-redis-port (env AUTOPOLL_PRIVATE_REDIS_PORT), or set REDIS_URL');
    expect(existsSync(join(cwd, 'data/redis'))).toBe(false);
  }, 60_000);

  it('a second up started while the first is still starting its redis-server is refused naming it; the first comes up', async () => {
    const cwd = folder();
    // A redis-server slow to start (a wrapper first on the PATH): the first up is still in its start when the second looks.
    const real = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    const wrappers = join(cwd, 'bin');
    const launched = join(cwd, 'launched');
    mkdirSync(wrappers);
    writeFileSync(join(wrappers, 'redis-server'), `#!/bin/sh\ntouch ${JSON.stringify(launched)}\nsleep 3\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o700 });
    const env = { ...(await upEnv()), PATH: `${wrappers}:${process.env.PATH}` };
    const first = new AutopollProcess(UP, env, { cwd });
    running.push(first);
    await waitFor('the first redis-server launched', async () => existsSync(launched), 30_000, 50);

    const second = await runAutopoll(UP, env, 30_000, cwd);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toContain(`another \`up\` (pid ${first.child.pid}) already runs in this folder`);
    await first.waitForLog(/autopoll is up/);
  }, 90_000);

  it("up.pid naming an up of another folder (a reused pid): this folder's up starts", async () => {
    const elsewhere = await upRunning();
    const cwd = folder();
    mkdirSync(join(cwd, 'data/redis'), { recursive: true, mode: 0o700 });
    writeFileSync(join(cwd, 'data/redis/up.pid'), `${elsewhere.first.child.pid}\n`);
    const up = new AutopollProcess(UP, await upEnv(), { cwd });
    running.push(up);
    await up.waitForLog(/autopoll is up/);
  }, 90_000);

  it('redis-server failing to start (its port taken by a Redis that wants a password): its output is logged and the error names the port flag', async () => {
    const cwd = folder();
    const taken = await RedisServer.start();
    servers.push(taken);
    await onRedis(taken.url, (r) => r.config('SET', 'requirepass', 'someone-elses-password'));
    const up = new AutopollProcess(UP, { ...noRedisUrl, AUTOPOLL_PRIVATE_REDIS_PORT: String(taken.port) }, { cwd });
    running.push(up);
    const said = await up.waitForLog(/^redis-server did not start on 127\.0\.0\.1:\d+/, 30_000);
    expect(String(said.redisOutput)).toMatch(/Address already in use/);
    expect(await up.exited).not.toEqual({ code: 0, signal: null });
    expect(up.stderr).toContain(`could not start a private redis-server on 127.0.0.1:${taken.port} (its output is logged above): choose another port with --private-redis-port (env AUTOPOLL_PRIVATE_REDIS_PORT)`);
  }, 60_000);

  it("redis-server gets none of autopoll's secrets in its environment", async () => {
    const cwd = folder();
    // redis-server overwrites what /proc/PID/environ shows with its process title: a wrapper first on the PATH records the environment it is given.
    const real = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    const wrappers = join(cwd, 'bin');
    mkdirSync(wrappers);
    writeFileSync(join(wrappers, 'redis-server'), `#!/bin/sh\nenv > ${JSON.stringify(join(cwd, 'redis-env'))}\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o700 });
    const secrets = { ANTHROPIC_API_KEY: `sk-ant-api03-${'k'.repeat(40)}`, AUTOPOLL_BOARD_TOKEN: 'board-token-of-this-test' };
    const up = new AutopollProcess(UP, { ...(await upEnv()), ...secrets, PATH: `${wrappers}:${process.env.PATH}` }, { cwd });
    running.push(up);
    await up.waitForLog(/autopoll is up/);
    const environment = readFileSync(join(cwd, 'redis-env'), 'utf8');
    expect(environment).toContain(`PATH=${wrappers}:`);
    for (const [name, value] of Object.entries(secrets)) {
      expect(environment).not.toContain(name);
      expect(environment).not.toContain(value);
    }
  });
});
