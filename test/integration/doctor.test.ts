import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { runDoctorChecks } from '../../src/doctor/check.js';
import type { CheckResult } from '../../src/shared/checks.js';
import { doctorChecks } from '../../src/doctor/doctor.js';
import { redisChecks } from '../../src/doctor/redisChecks.js';
import { BridgeFixture, BRIDGE_SCHEMA_SQL, tempDir, type Conversation } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { CLI } from '../support/cli.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { MARKERS } from '../support/leftovers.js';
import { freePort, RedisServer } from '../support/redisServer.js';

interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const TWO_DAYS = 2 * 24 * 3600;

/** The machine's own autopoll settings must not leak into the command under test. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AUTOPOLL_|REDIS_URL$|BRIDGE_DB$|ANTHROPIC_|CLAUDE_)/.test(k)));
}

describe('autopoll doctor', () => {
  let goodRedis: RedisServer;
  let api: FakeAnthropic;

  beforeAll(async () => {
    // One after the other: with Promise.all, the one started while the other failed would be stopped by nobody.
    goodRedis = await RedisServer.start(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes']);
    api = await new FakeAnthropic().start();
  });
  afterAll(async () => {
    await Promise.all([goodRedis?.stop(), api?.stop()]);
  });

  /** Runs the built CLI, as a user would. */
  function doctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<DoctorRun> {
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'doctor', ...args],
        { env: { ...cleanEnv(), ...claudeEnv(api.url), ...env }, timeout: 45_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ code, stdout, stderr, ms: Date.now() - started });
        },
      );
    });
  }

  /** A WAL bridge with one conversation granted by token and one found by role; a context root. */
  function goodSetup(): { bridge: BridgeFixture; conv: Conversation; roleConv: Conversation; args: string[] } {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation({ role: 'granted_only', expiresInSec: TWO_DAYS });
    const roleConv = bridge.createConversation({ role: 'haiku_shard', expiresInSec: TWO_DAYS });
    const args = [
      '--redis', goodRedis.url,
      '--bridge-db', bridge.path,
      '--conversation', `${conv.id}:${conv.tokenB}`,
      '--role', 'haiku_shard',
      '--context-root', tempDir('autopoll-doctor-root-'),
    ];
    return { bridge, conv, roleConv, args };
  }

  /** The line of check `name` with `status` (text output), and the line after it. */
  function line(out: string, status: string, name: string): { text: string; next: string } {
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${status.padEnd(6)}${name.padEnd(13)}`));
    expect(at, `no "${status} ${name}" line in:\n${out}`).toBeGreaterThanOrEqual(0);
    return { text: lines[at]!, next: lines[at + 1] ?? '' };
  }

  it('passes a good setup: every check ok, exit 0, one small request to the API, no token printed', async () => {
    api.responder = echoResponder;
    const before = api.messageRequests.length;
    const { bridge, conv, roleConv, args } = goodSetup();
    try {
      const run = await doctor(args);
      expect(run.stderr).toBe('');
      expect(run.code, run.stdout).toBe(0);
      expect(line(run.stdout, 'ok', 'redis').text).toMatch(/^ok {4}redis {8}Redis \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+$/);
      expect(line(run.stdout, 'ok', 'eviction').text).toContain('maxmemory-policy is noeviction');
      expect(line(run.stdout, 'ok', 'persistence').text).toContain('AOF on');
      expect(line(run.stdout, 'ok', 'bridge').text).toContain(`${bridge.path}: SQLite, WAL, 2 conversations`);
      expect(line(run.stdout, 'ok', 'conversation').text).toContain(`${conv.id} is served until`);
      expect(line(run.stdout, 'ok', 'role').text).toContain('1 unexpired conversation has session_b_role haiku_shard');
      expect(line(run.stdout, 'ok', 'context-root').text).toContain('autopoll-doctor-root-');
      expect(line(run.stdout, 'ok', 'claude').text).toMatch(/Claude Code \d+\.\d+\.\d+ at \S+claude: authenticated, \S+ answered in \d+\.\d s/);
      expect(run.stdout).not.toMatch(/^(FAIL|warn|skip) /m);
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('8 ok: nothing failed');
      for (const token of [conv.tokenA, conv.tokenB, roleConv.tokenA, roleConv.tokenB]) expect(run.stdout).not.toContain(token);
      const requests = api.messageRequests.slice(before);
      expect(requests).toHaveLength(1);
      expect(requests[0]!.lastUser).toContain('ping');
      expect(requests[0]!.body.tools ?? []).toEqual([]);
    } finally {
      bridge.close();
    }
  });

  it('--json prints {name, status, detail, fix?} for every check', async () => {
    api.responder = echoResponder;
    const { bridge, args } = goodSetup();
    try {
      const run = await doctor([...args, '--json', '--skip-claude']);
      expect(run.code).toBe(0);
      const results = JSON.parse(run.stdout) as CheckResult[];
      expect(results.map((r) => r.name)).toEqual(['redis', 'eviction', 'persistence', 'bridge', 'conversation', 'role', 'context-root', 'claude']);
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'skip']);
      for (const r of results) expect(Object.keys(r).sort()).toEqual(['detail', 'name', 'status']);
      expect(results.at(-1)!.detail).toBe('not checked: --skip-claude');
    } finally {
      bridge.close();
    }
  });

  it('fails on an evicting Redis with the fix, and warns about a Redis without persistence', async () => {
    const evicting = await RedisServer.start(['--maxmemory-policy', 'allkeys-lru']);
    onTestFinished(() => evicting.stop());
    const { bridge, args } = goodSetup();
    try {
      const run = await doctor([...args, '--redis', evicting.url, '--skip-claude']);
      expect(run.code).toBe(1);
      const eviction = line(run.stdout, 'FAIL', 'eviction');
      expect(eviction.text).toBe('FAIL  eviction     maxmemory-policy is allkeys-lru: BullMQ loses jobs when Redis evicts keys');
      expect(eviction.next).toMatch(new RegExp(`^ {19}fix: redis-cli -p ${evicting.port} CONFIG SET maxmemory-policy noeviction, and the line \`maxmemory-policy noeviction\` in redis.conf`));
      const persistence = line(run.stdout, 'warn', 'persistence');
      expect(persistence.text).toContain('no persistence (AOF off, no RDB snapshots)');
      expect(persistence.next).toContain(`fix: redis-cli -p ${evicting.port} CONFIG SET appendonly yes`);
      line(run.stdout, 'ok', 'redis');
      expect(run.stdout).toContain('1 failed, 1 warning, 5 ok, 1 skipped: fix the FAIL lines and run autopoll doctor again');
    } finally {
      bridge.close();
    }
  });

  it('fails fast when nothing listens at the Redis URL, and when something there never answers', async () => {
    const { bridge, args } = goodSetup();
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = await freePort();
      const down = await doctor([...args, '--redis', `redis://127.0.0.1:${port}`, '--skip-claude']);
      expect(down.code).toBe(1);
      expect(line(down.stdout, 'FAIL', 'redis').text).toContain(`Redis at redis://127.0.0.1:${port} is unreachable (connect ECONNREFUSED`);
      expect(line(down.stdout, 'FAIL', 'redis').next).toContain(`fix: start a Redis on 127.0.0.1:${port} with \`redis-server --port ${port} --appendonly yes --maxmemory-policy noeviction\``);
      expect(line(down.stdout, 'skip', 'eviction').text).toContain('no Redis to ask');
      line(down.stdout, 'skip', 'persistence');
      line(down.stdout, 'ok', 'bridge'); // the other checks still ran
      expect(down.ms).toBeLessThan(15_000); // the whole command, node's start included, on a busy machine

      const silentPort = (silent.address() as { port: number }).port;
      const stuck = await doctor([...args, '--redis', `redis://127.0.0.1:${silentPort}`, '--skip-claude']);
      expect(stuck.code).toBe(1);
      expect(line(stuck.stdout, 'FAIL', 'redis').text).toContain('accepted the connection but did not answer within 2 s');

      // The Redis probe alone, timed without a process start: refused at once, a silent server
      // within its 2 s command timeouts (the connection's HELLO, then INFO), not the check's 8 s.
      for (const [url, limit] of [[`redis://127.0.0.1:${port}`, 1500], [`redis://127.0.0.1:${silentPort}`, 6000]] as const) {
        const started = Date.now();
        const [first] = await runDoctorChecks([redisChecks(url)]);
        expect(first!.status).toBe('fail');
        expect(Date.now() - started, url).toBeLessThan(limit);
      }
    } finally {
      silent.close();
      bridge.close();
    }
  });

  it('fails on an expired conversation and warns about one that expires within 30 min', async () => {
    const { bridge, args } = goodSetup();
    const expired = bridge.createConversation({ expiresInSec: -3600 });
    const soon = bridge.createConversation({ expiresInSec: 20 * 60 });
    try {
      const run = await doctor([...args, '--conversation', `${expired.id}:${expired.tokenB}`, '--conversation', `${soon.id}:${soon.tokenB}`, '--skip-claude']);
      expect(run.code).toBe(1);
      const dead = run.stdout.split('\n').findIndex((l) => l.startsWith('FAIL  conversation') && l.includes(expired.id));
      expect(run.stdout.split('\n')[dead]).toMatch(new RegExp(`^FAIL  conversation ${expired.id} expired at \\S+ UTC \\(1 h( 0 min)? ago\\): the bridge refuses its tokens$`));
      expect(run.stdout.split('\n')[dead + 1]).toContain('fix: start a new conversation on the bridge');
      // 20 min from its creation, less however long the doctor took to read it (rounded to the second).
      expect(run.stdout).toMatch(new RegExp(`^warn  conversation ${soon.id} is served, and expires in (19|20) min \\(\\S+ UTC\\)$`, 'm'));
      for (const c of [expired, soon]) expect(run.stdout).not.toContain(c.tokenB);
    } finally {
      bridge.close();
    }
  });

  it('fails on a wrong token, a side-a token and an unknown conversation, and never prints a token', async () => {
    const { bridge, conv, args } = goodSetup();
    const wrong = 'f00d'.repeat(16);
    try {
      // Through the environment twin this time: a comma list.
      const withoutGrant = args.filter((a, i) => a !== '--conversation' && args[i - 1] !== '--conversation');
      const viaEnv = await doctor([...withoutGrant, '--skip-claude'], {
        AUTOPOLL_CONVERSATIONS: `${conv.id}:${wrong},${conv.id}:${conv.tokenA},conv_0000000000000000:${wrong}`,
      });
      expect(viaEnv.code).toBe(1);
      const out = viaEnv.stdout;
      expect(out).toContain(`FAIL  conversation ${conv.id}: the token given is not this conversation's side-b token`);
      expect(out).toContain(`FAIL  conversation ${conv.id}: the token given is side a's, not side b's`);
      expect(out).toContain(`fix: pass --conversation ${conv.id}:<session_b_token>, the side-b token of the conversation`);
      expect(out).toContain('FAIL  conversation conv_0000000000000000 does not exist in the bridge file');
      for (const token of [wrong, conv.tokenA, conv.tokenB]) {
        expect(out).not.toContain(token);
        expect(viaEnv.stderr).not.toContain(token);
      }
    } finally {
      bridge.close();
    }
  });

  it('fails on a bridge file that is not in WAL mode, and leaves it as it was', async () => {
    const path = join(tempDir(), 'rollback.db');
    const db = new Database(path);
    db.exec(readFileSync(BRIDGE_SCHEMA_SQL, 'utf8'));
    db.close();
    const before = statSync(path);
    const run = await doctor(['--redis', goodRedis.url, '--bridge-db', path, '--role', 'haiku_shard', '--skip-claude']);
    expect(run.code).toBe(1);
    const bridgeLine = line(run.stdout, 'FAIL', 'bridge');
    expect(bridgeLine.text).toContain(`${path} is in delete journal mode, not WAL`);
    expect(bridgeLine.next).toContain(`fix: sqlite3 ${path} 'PRAGMA journal_mode=WAL;'`);
    const after = statSync(path);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('fails on a missing bridge file without creating it, and on files that are not bridges', async () => {
    const dir = tempDir();
    const missing = join(dir, 'nowhere', 'bridge.db');
    const run = await doctor(['--redis', goodRedis.url, '--bridge-db', missing, '--role', 'haiku_shard', '--skip-claude']);
    expect(run.code).toBe(1);
    expect(line(run.stdout, 'FAIL', 'bridge').text).toBe(`FAIL  bridge       bridge file ${missing} does not exist`);
    expect(line(run.stdout, 'FAIL', 'bridge').next).toContain('fix: pass --bridge-db (env BRIDGE_DB)');
    expect(line(run.stdout, 'skip', 'role').text).toContain('no bridge file to read');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all\n');
    const notSqlite = await doctor(['--redis', goodRedis.url, '--bridge-db', text, '--skip-claude']);
    expect(line(notSqlite.stdout, 'FAIL', 'bridge').text).toContain(`${text} is not an SQLite database`);

    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE things (id INTEGER)');
    db.close();
    const notBridge = await doctor(['--redis', goodRedis.url, '--bridge-db', other, '--skip-claude']);
    expect(line(notBridge.stdout, 'FAIL', 'bridge').text).toContain(`${other} is SQLite but not a bridge database: no conversations or messages table`);
  });

  it('fails on a missing context root', async () => {
    const { bridge, args } = goodSetup();
    const root = join(tempDir(), 'no-such-folder');
    try {
      const run = await doctor([...args, '--context-root', root, '--skip-claude']);
      expect(run.code).toBe(1);
      expect(line(run.stdout, 'FAIL', 'context-root').text).toBe(`FAIL  context-root ${root} does not exist`);
      expect(line(run.stdout, 'FAIL', 'context-root').next).toContain('fix: create it, or pass --context-root (env AUTOPOLL_CONTEXT_ROOT)');
    } finally {
      bridge.close();
    }
  });

  it('reports a 401 from the API as not authenticated, promptly', async () => {
    api.responder = () => ({ kind: 'error', status: 401, message: 'invalid x-api-key' });
    const { bridge, args } = goodSetup();
    try {
      const run = await doctor(args);
      expect(run.code).toBe(1);
      const claude = line(run.stdout, 'FAIL', 'claude');
      expect(claude.text).toBe('FAIL  claude       Claude Code is not authenticated: set ANTHROPIC_API_KEY or run claude login (the API answered HTTP 401)');
      expect(claude.next).toContain('fix: export ANTHROPIC_API_KEY=<key>');
      // Claude Code would retry a 401 for minutes; the doctor stops at the first one.
      expect(run.ms).toBeLessThan(20_000);
      expect(run.stdout).not.toContain('sk-ant-test-key');
    } finally {
      api.responder = echoResponder;
      bridge.close();
    }
  });

  it('reports missing credentials as not authenticated, without any request', async () => {
    const before = api.messageRequests.length;
    const { bridge, args } = goodSetup();
    try {
      const run = await doctor(args, { ANTHROPIC_API_KEY: undefined });
      expect(run.code).toBe(1);
      expect(line(run.stdout, 'FAIL', 'claude').text).toContain('Claude Code is not authenticated: set ANTHROPIC_API_KEY or run claude login');
      expect(api.messageRequests.length).toBe(before);
    } finally {
      bridge.close();
    }
  });

  it('skips Claude Code with --answerer stub (env twin too) and makes no request', async () => {
    const before = api.messageRequests.length;
    const { bridge, args } = goodSetup();
    try {
      const run = await doctor(args, { AUTOPOLL_ANSWERER: 'stub' });
      expect(run.code).toBe(0);
      expect(line(run.stdout, 'skip', 'claude').text).toBe('skip  claude       not checked: the stub answerer does not use Claude Code (--answerer stub)');
      expect(api.messageRequests.length).toBe(before);
    } finally {
      bridge.close();
    }
  });

  it('refuses a bad option value with exit code 2', async () => {
    const run = await doctor(['--answerer', 'gpt']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--answerer (env AUTOPOLL_ANSWERER)');
  });

  it('in process: the same checks, with the Claude environment given', async () => {
    api.responder = echoResponder;
    const { bridge, conv, args } = goodSetup();
    try {
      const results = await runDoctorChecks(
        doctorChecks({
          redis: goodRedis.url,
          bridgeDb: bridge.path,
          conversations: [{ id: conv.id, token: conv.tokenB }],
          role: undefined,
          contextRoot: args[args.indexOf('--context-root') + 1]!,
          answerer: 'claude',
          model: 'haiku',
          skipClaude: false,
          claudeEnv: claudeEnv(api.url),
          // As the consumer passes them (AUTOPOLL_CLAUDE_ENV): the run's teardown finds the probe by them.
          claudePassEnv: MARKERS,
        }),
      );
      expect(results.map((r) => [r.name, r.status])).toEqual([
        ['redis', 'ok'], ['eviction', 'ok'], ['persistence', 'ok'], ['bridge', 'ok'], ['conversation', 'ok'], ['context-root', 'ok'], ['claude', 'ok'],
      ]);
    } finally {
      bridge.close();
    }
  });
});
