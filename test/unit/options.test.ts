import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { addOptions, COMMON, CONSUMER, ConfigError, PRODUCER } from '../../src/cli/options.js';
import { parseOptions } from '../../src/cli/parseOptions.js';

const ALL_SPECS = { ...COMMON, ...PRODUCER, ...CONSUMER };
const ENV_NAMES = Object.values(ALL_SPECS).map((s) => s.env);

/** The defaults as commander hands them over: strings. */
function defaults(specs: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(specs as Record<string, { default?: unknown }>).flatMap(([k, s]) => (s.default === undefined ? [] : [[k, s.default]])),
  );
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string | undefined>): void {
  for (const name of [...ENV_NAMES, ...Object.keys(vars)]) {
    if (!saved.has(name)) saved.set(name, process.env[name]);
    delete process.env[name];
  }
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) process.env[name] = value;
}
afterEach(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
});

function parseCli(specs: Record<string, unknown>, argv: string[]): Record<string, unknown> {
  const cmd = addOptions(new Command().exitOverride(), specs as Parameters<typeof addOptions>[1]);
  cmd.parse(['node', 'x', ...argv]);
  return cmd.opts();
}

describe('parseOptions with the spec tables', () => {
  it('coerces the COMMON defaults', () => {
    expect(parseOptions(COMMON, defaults(COMMON))).toEqual({
      redis: 'redis://127.0.0.1:6379',
      redisCluster: false,
      prefix: '{autopoll}',
      logLevel: 'info',
      // Readable on a terminal, JSON otherwise (the built CLI's test runs it both ways).
      logFormat: process.stdout.isTTY ? 'pretty' : 'json',
      shutdownTimeout: 30,
    });
  });

  it('coerces the PRODUCER defaults to numbers, with no conversations and no role', () => {
    expect(parseOptions(PRODUCER, defaults(PRODUCER))).toEqual({
      bridgeDb: './data/bridge.db',
      conversation: [],
      role: undefined,
      contextRoot: './data/context',
      contextMaxBytes: 200_000,
      pollIntervalMs: 250,
      busyTimeoutMs: 20,
      reconcileInterval: 60,
      maxQueued: 10_000,
      heartbeatInterval: 15,
    });
  });

  it('coerces the CONSUMER defaults to numbers', () => {
    const parsed = parseOptions(CONSUMER, defaults(CONSUMER));
    expect(parsed).toEqual({
      sessions: 2,
      minSessions: 1,
      sessionIdleTimeout: 60,
      attempts: 5,
      backoffMs: 1000,
      maxDefer: 1800,
      answerer: 'claude',
      model: 'haiku',
      turnTimeout: 120,
      maxTurnsPerSession: 50,
      maxContextTokens: 100_000,
      sessionMemory: 'none',
      toolsRoot: undefined,
      stubLatencyMs: 0,
      lockDurationMs: 30_000,
      claudeEnv: [],
      name: undefined,
    });
    expect(typeof parsed.sessions).toBe('number');
  });

  it("refuses to pass autopoll's secret variables to Claude Code", () => {
    expect(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), claudeEnv: ['MY_VAR', 'AUTOPOLL_BOARD_TOKEN'] })).toThrow(
      /--claude-env \(env AUTOPOLL_CLAUDE_ENV\): AUTOPOLL_BOARD_TOKEN holds a secret of autopoll's/,
    );
    expect(parseOptions(CONSUMER, { ...defaults(CONSUMER), claudeEnv: ['MY_VAR'] }).claudeEnv).toEqual(['MY_VAR']);
  });

  it('names the flag and the environment variable of a bad number', () => {
    const msg = configError(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), sessions: 'many' }));
    expect(msg).toContain('--sessions');
    expect(msg).toContain('AUTOPOLL_SESSIONS');
    expect(msg).not.toContain('--attempts');
  });

  it('refuses numbers below the minimum and fractions', () => {
    expect(configError(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), sessions: '0' }))).toContain('--sessions (env AUTOPOLL_SESSIONS)');
    expect(configError(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), attempts: '2.5' }))).toContain('--attempts (env AUTOPOLL_ATTEMPTS)');
    expect(configError(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), lockDurationMs: '999' }))).toContain('--lock-duration-ms (env AUTOPOLL_LOCK_DURATION_MS)');
    expect(configError(() => parseOptions(PRODUCER, { ...defaults(PRODUCER), pollIntervalMs: '9' }))).toContain('--poll-interval-ms (env AUTOPOLL_POLL_INTERVAL_MS)');
    expect(parseOptions(PRODUCER, { ...defaults(PRODUCER), pollIntervalMs: '10' }).pollIntervalMs).toBe(10);
  });

  it('lists every bad option at once', () => {
    const msg = configError(() => parseOptions(CONSUMER, { ...defaults(CONSUMER), sessions: 'x', backoffMs: '-1', answerer: 'gpt' }));
    expect(msg).toContain('--sessions');
    expect(msg).toContain('--backoff-ms (env AUTOPOLL_BACKOFF_MS)');
    expect(msg).toContain('--answerer (env AUTOPOLL_ANSWERER)');
    expect(msg.split('\n')).toHaveLength(4);
  });

  it('parses --conversation "conv_x:TOKEN" into {id, token}', () => {
    const token = 'a'.repeat(64);
    const parsed = parseOptions(PRODUCER, { ...defaults(PRODUCER), conversation: [`conv_x:${token}`, ' conv_y : tok:with:colons ', 'c3:t3'] });
    expect(parsed.conversation).toEqual([
      { id: 'conv_x', token },
      { id: 'conv_y', token: 'tok:with:colons' },
      { id: 'c3', token: 't3' },
    ]);
  });

  it('refuses a malformed conversation without repeating the token', () => {
    const secret = 'deadbeef'.repeat(8);
    for (const bad of [`:${secret}`, `${secret}`, `conv_x:`, `conv_x:   `, `  :${secret}`]) {
      const msg = configError(() => parseOptions(PRODUCER, { ...defaults(PRODUCER), conversation: [bad] }));
      expect(msg).toContain('--conversation (env AUTOPOLL_CONVERSATIONS)');
      expect(msg).toContain('CONV_ID:TOKEN');
      expect(msg).not.toContain(secret);
      expect(msg).not.toContain('deadbeef');
    }
  });

  it('refuses a prefix containing ":"', () => {
    const msg = configError(() => parseOptions(COMMON, { ...defaults(COMMON), prefix: 'auto:poll' }));
    expect(msg).toContain('--prefix (env AUTOPOLL_PREFIX)');
    expect(msg).toContain('must not contain ":"');
    expect(parseOptions(COMMON, { ...defaults(COMMON), prefix: '{other}' }).prefix).toBe('{other}');
  });

  it('refuses a bad Redis URL and log level', () => {
    expect(configError(() => parseOptions(COMMON, { ...defaults(COMMON), redis: 'not a url' }))).toContain('--redis (env REDIS_URL)');
    expect(configError(() => parseOptions(COMMON, { ...defaults(COMMON), logLevel: 'loud' }))).toContain('--log-level (env LOG_LEVEL)');
  });

  it('checks the Redis URL against --redis-cluster, and a Cluster\'s prefix for a hash tag', () => {
    const seeds = 'redis://127.0.0.1:7000,127.0.0.1:7001';
    expect(configError(() => parseOptions(COMMON, { ...defaults(COMMON), redis: seeds }))).toContain('--redis (env REDIS_URL): several hosts are the seed nodes of a Redis Cluster: add --redis-cluster');
    expect(parseOptions(COMMON, { ...defaults(COMMON), redis: seeds, redisCluster: true }).redisCluster).toBe(true);
    const msg = configError(() => parseOptions(COMMON, { ...defaults(COMMON), redis: seeds, redisCluster: true, prefix: 'autopoll' }));
    expect(msg).toContain('--prefix (env AUTOPOLL_PREFIX): with --redis-cluster the prefix must be hash-tagged, e.g. {autopoll}');
    expect(configError(() => parseOptions(COMMON, { ...defaults(COMMON), redis: seeds, redisCluster: true, prefix: '{}' }))).toContain('--prefix (env AUTOPOLL_PREFIX)');
    // One Redis or a Sentinel set takes any prefix.
    expect(parseOptions(COMMON, { ...defaults(COMMON), prefix: 'plain' }).prefix).toBe('plain');
    expect(parseOptions(COMMON, { ...defaults(COMMON), redis: 'redis-sentinel://s1:26379,s2:26379/m', prefix: 'plain' }).redis).toBe('redis-sentinel://s1:26379,s2:26379/m');
    expect(configError(() => parseOptions(COMMON, { ...defaults(COMMON), redis: 'redis-sentinel://s1/m', redisCluster: true }))).toContain('drop --redis-cluster');
  });

  it('reads AUTOPOLL_REDIS_CLUSTER and --redis-cluster', () => {
    setEnv({ AUTOPOLL_REDIS_CLUSTER: '1', REDIS_URL: 'redis://127.0.0.1:7000' });
    expect(parseOptions(COMMON, parseCli(COMMON, [])).redisCluster).toBe(true);
    setEnv({});
    expect(parseOptions(COMMON, parseCli(COMMON, ['--redis-cluster'])).redisCluster).toBe(true);
    expect(parseOptions(COMMON, parseCli(COMMON, [])).redisCluster).toBe(false);
  });

  it('turns an empty role or name into undefined', () => {
    expect(parseOptions(PRODUCER, { ...defaults(PRODUCER), role: '' }).role).toBeUndefined();
    expect(parseOptions(PRODUCER, { ...defaults(PRODUCER), role: 'shard' }).role).toBe('shard');
    expect(parseOptions(CONSUMER, { ...defaults(CONSUMER), name: '' }).name).toBeUndefined();
  });
});

describe('addOptions with commander', () => {
  it('takes flags over defaults and environment over defaults', () => {
    setEnv({ AUTOPOLL_ATTEMPTS: '7' });
    const parsed = parseOptions(CONSUMER, parseCli(CONSUMER, ['--sessions', '4']));
    expect(parsed.sessions).toBe(4);
    expect(parsed.attempts).toBe(7);
    expect(parsed.backoffMs).toBe(1000);
    expect(parsed.answerer).toBe('claude');
  });

  it('takes a flag over its environment twin', () => {
    setEnv({ AUTOPOLL_SESSIONS: '9' });
    expect(parseOptions(CONSUMER, parseCli(CONSUMER, ['--sessions', '3'])).sessions).toBe(3);
    expect(parseOptions(CONSUMER, parseCli(CONSUMER, [])).sessions).toBe(9);
  });

  it('reads AUTOPOLL_CONVERSATIONS as a comma list', () => {
    setEnv({ AUTOPOLL_CONVERSATIONS: 'c1:t1,c2:t2' });
    expect(parseOptions(PRODUCER, parseCli(PRODUCER, [])).conversation).toEqual([
      { id: 'c1', token: 't1' },
      { id: 'c2', token: 't2' },
    ]);
  });

  it('collects a repeated --conversation flag', () => {
    setEnv({});
    expect(parseOptions(PRODUCER, parseCli(PRODUCER, ['--conversation', 'c1:t1', '--conversation', 'c2:t2,c3:t3'])).conversation).toEqual([
      { id: 'c1', token: 't1' },
      { id: 'c2', token: 't2' },
      { id: 'c3', token: 't3' },
    ]);
  });

  it('reports a bad environment value with the variable name', () => {
    setEnv({ AUTOPOLL_BACKOFF_MS: 'soon' });
    const msg = configError(() => parseOptions(CONSUMER, parseCli(CONSUMER, [])));
    expect(msg).toContain('--backoff-ms (env AUTOPOLL_BACKOFF_MS)');
  });

  it('works with COMMON, PRODUCER and CONSUMER on one command', () => {
    setEnv({ REDIS_URL: 'redis://example.test:6380', AUTOPOLL_PREFIX: '{p2}' });
    const values = parseCli(ALL_SPECS, ['--context-max-bytes', '1234', '--log-level', 'debug']);
    const parsed = parseOptions(ALL_SPECS, values);
    expect(parsed.redis).toBe('redis://example.test:6380');
    expect(parsed.prefix).toBe('{p2}');
    expect(parsed.logLevel).toBe('debug');
    expect(parsed.contextMaxBytes).toBe(1234);
    expect(parsed.sessions).toBe(2);
    expect(parsed.conversation).toEqual([]);
  });
});
