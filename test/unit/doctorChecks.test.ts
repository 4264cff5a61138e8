import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { runDoctorChecks } from '../../src/doctor/check.js';
import { judgeClaude } from '../../src/doctor/claudeCheck.js';
import type { ConversationRow } from '../../src/bridge/conversations.js';
import { judgeGrant, judgeRole } from '../../src/doctor/conversationChecks.js';
import { judgeEviction, judgePersistence, judgeVersion, parseInfo, redisCliCommand, versionAtLeast } from '../../src/doctor/redisChecks.js';
import { ok, type Check } from '../../src/shared/checks.js';
import { formatBridgeTimestamp } from '../../src/bridge/timestamp.js';

describe('Redis judgements', () => {
  it('parses INFO into key/value pairs', () => {
    expect(parseInfo('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n')).toEqual({
      redis_version: '7.0.15',
      redis_mode: 'standalone',
      maxmemory_policy: 'noeviction',
    });
  });

  it('compares versions against 6.2', () => {
    for (const v of ['6.2.0', '6.2', '6.10.1', '7.0.15', '8.0.0']) expect(versionAtLeast(v, [6, 2]), v).toBe(true);
    for (const v of ['6.0.16', '5.0.14', 'unknown', '']) expect(versionAtLeast(v, [6, 2]), v).toBe(false);
    expect(judgeVersion('6.0.16', 'redis://h:6379')).toEqual({
      name: 'redis',
      status: 'fail',
      detail: 'Redis 6.0.16 at redis://h:6379 is too old: BullMQ 6 needs Redis 6.2 or newer',
      fix: 'upgrade Redis to 6.2 or newer (7.x recommended), or point --redis (env REDIS_URL) at one',
    });
    expect(judgeVersion('7.2.4', 'redis://h:6379')).toEqual(ok('redis', 'Redis 7.2.4 at redis://h:6379'));
  });

  it('fails any eviction policy but noeviction, and warns when it cannot be read', () => {
    expect(judgeEviction({ policy: 'noeviction' }, 'redis-cli').status).toBe('ok');
    const lru = judgeEviction({ policy: 'volatile-lru' }, 'redis-cli -p 6380');
    expect(lru.status).toBe('fail');
    expect(lru.detail).toBe('maxmemory-policy is volatile-lru: BullMQ loses jobs when Redis evicts keys');
    expect(lru.fix).toContain('redis-cli -p 6380 CONFIG SET maxmemory-policy noeviction');
    expect(lru.fix).toContain('`maxmemory-policy noeviction` in redis.conf');
    expect(judgeEviction({ unknown: 'CONFIG GET was refused' }, 'redis-cli').status).toBe('warn');
  });

  it('is content with AOF or RDB snapshots, and warns without either', () => {
    expect(judgePersistence({ aof: true, save: '' }, 'redis-cli')).toEqual(ok('persistence', 'AOF on'));
    expect(judgePersistence({ aof: true, save: '3600 1' }, 'redis-cli').detail).toBe('AOF on, RDB snapshots (save 3600 1)');
    const rdb = judgePersistence({ aof: false, save: '3600 1 300 100' }, 'redis-cli');
    expect(rdb.status).toBe('ok');
    expect(rdb.detail).toMatch(/^RDB snapshots \(save 3600 1 300 100\), AOF off/);
    const none = judgePersistence({ aof: false, save: '' }, 'redis-cli');
    expect(none.status).toBe('warn');
    expect(none.detail).toContain('no persistence (AOF off, no RDB snapshots)');
    expect(none.fix).toContain('redis-cli CONFIG SET appendonly yes');
    const unreadable = judgePersistence({ aof: false, save: undefined }, 'redis-cli');
    expect(unreadable.status).toBe('warn');
    expect(unreadable.detail).toMatch(/^persistence unknown \(AOF off, RDB snapshot rules unreadable \(CONFIG GET refused\)\): if there is none, /);
    expect(judgePersistence({ aof: undefined, save: '' }, 'redis-cli').detail).toMatch(/^persistence unknown \(AOF state unreadable, no RDB snapshots\)/);
  });

  it('builds the redis-cli command for a URL without printing its password', () => {
    expect(redisCliCommand('redis://127.0.0.1:6379')).toBe('redis-cli');
    expect(redisCliCommand('redis://localhost')).toBe('redis-cli');
    expect(redisCliCommand('redis://cache.internal:6380')).toBe('redis-cli -h cache.internal -p 6380');
    const secret = redisCliCommand('rediss://app:s3cret@cache.internal:6379/2');
    expect(secret).toBe('redis-cli -h cache.internal --tls --user app --askpass');
    expect(secret).not.toContain('s3cret');
  });
});

describe('conversation judgements', () => {
  const NOW = Date.parse('2026-11-22T12:00:00Z') * 1000;
  const tokenA = 'a'.repeat(64);
  const tokenB = 'b'.repeat(64);
  const row = (expiresInSec: number): ConversationRow => ({
    id: 'conv_0123456789abcdef',
    session_a_token: tokenA,
    session_b_token: tokenB,
    expires_at: formatBridgeTimestamp(NOW + expiresInSec * 1_000_000),
  });
  const grant = (token: string) => ({ id: 'conv_0123456789abcdef', token });
  const text = (r: { detail: string; fix?: string }) => `${r.detail} ${r.fix ?? ''}`;

  it('ok for a valid grant far from its expiry', () => {
    expect(judgeGrant(grant(tokenB), row(3 * 86_400), NOW)).toEqual(ok('conversation', 'conv_0123456789abcdef is served until 2026-11-25T12:00:00 UTC'));
  });

  it('warns within 30 min of the expiry and fails past it', () => {
    expect(judgeGrant(grant(tokenB), row(31 * 60), NOW).status).toBe('ok');
    const soon = judgeGrant(grant(tokenB), row(29 * 60), NOW);
    expect(soon.status).toBe('warn');
    expect(soon.detail).toBe('conv_0123456789abcdef is served, and expires in 29 min (2026-11-22T12:29:00 UTC)');
    const expired = judgeGrant(grant(tokenB), row(-90), NOW);
    expect(expired.status).toBe('fail');
    expect(expired.detail).toBe('conv_0123456789abcdef expired at 2026-11-22T11:58:30 UTC (1 min ago): the bridge refuses its tokens');
    expect(judgeGrant(grant(tokenB), row(0), NOW).status).toBe('fail');
  });

  it('fails a missing conversation, a wrong token and side a token, never repeating a token', () => {
    expect(judgeGrant(grant(tokenB), undefined, NOW)).toMatchObject({ status: 'fail', detail: 'conv_0123456789abcdef does not exist in the bridge file' });
    const wrong = judgeGrant(grant('c'.repeat(64)), row(3600), NOW);
    expect(wrong).toMatchObject({ status: 'fail', detail: "conv_0123456789abcdef: the token given is not this conversation's side-b token" });
    const sideA = judgeGrant(grant(tokenA), row(3600), NOW);
    expect(sideA.detail).toBe("conv_0123456789abcdef: the token given is side a's, not side b's");
    for (const r of [wrong, sideA]) for (const t of [tokenA, tokenB, 'c'.repeat(64)]) expect(text(r)).not.toContain(t);
  });

  it('checks the token before the expiry: an expired conversation with a wrong token says wrong token', () => {
    expect(judgeGrant(grant('c'.repeat(64)), row(-3600), NOW).detail).toContain('not this conversation');
  });

  it('counts the conversations of a role, and lists the other roles when there is none', () => {
    expect(judgeRole('haiku_shard', { unexpired: 2, expired: 1, others: [] })).toEqual(ok('role', '2 unexpired conversations have session_b_role haiku_shard (1 expired)'));
    expect(judgeRole('haiku_shard', { unexpired: 1, expired: 0, others: [] }).detail).toBe('1 unexpired conversation has session_b_role haiku_shard');
    const none = judgeRole('haiku_shrad', { unexpired: 0, expired: 0, others: [{ role: 'haiku_shard', n: 3 }] });
    expect(none.status).toBe('warn');
    expect(none.detail).toBe('no unexpired conversation has session_b_role haiku_shrad; the roles with unexpired ones: haiku_shard (3)');
  });
});

describe('Claude Code judgement', () => {
  const BIN = '/x/claude';
  const result = (extra: Partial<SDKResultMessage>): SDKResultMessage =>
    ({ type: 'result', subtype: 'success', is_error: false, result: 'pong', api_error_status: null, modelUsage: { 'claude-haiku-x': {} }, ...extra }) as unknown as SDKResultMessage;

  it('ok when a result came back', () => {
    expect(judgeClaude(BIN, 'haiku', { version: '2.1.330', signals: {}, result: result({}), stderr: '', ms: 1234 })).toEqual(
      ok('claude', 'Claude Code 2.1.330 at /x/claude: authenticated, claude-haiku-x answered in 1.2 s'),
    );
  });

  it('a 401 retry or a "Not logged in" result is: not authenticated', () => {
    const retried = judgeClaude(BIN, 'haiku', { signals: { retryStatus: 401, assistantError: 'authentication_failed' }, stderr: '', ms: 600 });
    expect(retried).toMatchObject({ status: 'fail', detail: 'Claude Code is not authenticated: set ANTHROPIC_API_KEY or run claude login (the API answered HTTP 401)' });
    const noKey = judgeClaude(BIN, 'haiku', { signals: { assistantError: 'authentication_failed' }, result: result({ is_error: true, result: 'Not logged in · Please run /login' }), stderr: '', ms: 100 });
    expect(noKey.detail).toBe('Claude Code is not authenticated: set ANTHROPIC_API_KEY or run claude login');
  });

  it('rate limiting is a warning: the credentials were accepted', () => {
    expect(judgeClaude(BIN, 'haiku', { signals: { retryStatus: 429, assistantError: 'rate_limit' }, stderr: '', ms: 100 }).status).toBe('warn');
  });

  it('a binary that did not run says so, with the end of its stderr', () => {
    const r = judgeClaude(BIN, 'haiku', { signals: {}, error: new Error('spawn EACCES'), stderr: 'line 1\nboom\n', ms: 10 });
    expect(r).toMatchObject({ status: 'fail', detail: 'Claude Code at /x/claude did not run: spawn EACCES (stderr: line 1 | boom)' });
  });

  it('another error result names the model to check', () => {
    const r = judgeClaude(BIN, 'nonesuch', { version: '2.1.330', signals: {}, result: result({ is_error: true, result: 'model not found' }), stderr: '', ms: 10 });
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('model not found');
    expect(r.fix).toContain('--model (env AUTOPOLL_MODEL, now nonesuch)');
  });
});

describe('runDoctorChecks', () => {
  it('keeps the order of the checks, turns a throw into a failure and bounds a check that never ends', async () => {
    let aborted = false;
    const never: Check = {
      name: 'slow',
      timeoutMs: 100,
      timeoutFix: 'look at it',
      run: (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
    };
    const thrower: Check = { name: 'thrower', timeoutMs: 5000, run: () => Promise.reject(new Error('bad')) };
    const two: Check = { name: 'two', timeoutMs: 5000, run: async () => [ok('two-a', 'x'), ok('two-b', 'y')] };
    const started = Date.now();
    const results = await runDoctorChecks([never, thrower, two]);
    expect(Date.now() - started, 'not the others\' 5 s').toBeLessThan(2500);
    expect(results).toEqual([
      { name: 'slow', status: 'fail', detail: 'no answer within 0.1 s', fix: 'look at it' },
      { name: 'thrower', status: 'fail', detail: 'the check itself failed: bad' },
      ok('two-a', 'x'),
      ok('two-b', 'y'),
    ]);
    expect(aborted).toBe(true);
  });
});
