import { Redis } from 'ioredis';
import { safeRedisUrl } from '../shared/redis.js';
import { errorText, fail, ok, skip, warn, type Check, type CheckResult } from './check.js';

const COMMAND_TIMEOUT_MS = 2000;

/** BullMQ 6's Lua scripts use commands Redis added in 6.2. */
export const MIN_REDIS: readonly [number, number] = [6, 2];

/**
 * Reachability and version (`redis`), eviction policy (`eviction`) and persistence
 * (`persistence`), over one short-lived connection that never retries: a Redis that is down
 * fails at once instead of being waited for, as the services' own connections would.
 */
export function redisChecks(url: string, timeoutMs = 8000): Check {
  return {
    name: 'redis',
    timeoutMs,
    timeoutFix: `check that ${safeRedisUrl(url)} is a Redis and answers (redis-cli ... PING)`,
    run: async (signal) => {
      const redis = new Redis(url, {
        lazyConnect: true,
        connectTimeout: COMMAND_TIMEOUT_MS,
        commandTimeout: COMMAND_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
        // The probe's own INFO is the ready check, bounded by commandTimeout like every call here.
        enableReadyCheck: false,
      });
      // connect() rejects with a bare "Connection is closed."; the error event has the cause.
      let lastError: unknown;
      redis.on('error', (err) => (lastError = err));
      signal.addEventListener('abort', () => redis.disconnect(), { once: true });
      try {
        return await probe(redis, url, () => lastError);
      } finally {
        redis.disconnect();
      }
    },
  };
}

async function probe(redis: Redis, url: string, lastError: () => unknown): Promise<CheckResult[]> {
  const shown = safeRedisUrl(url);
  let server: Record<string, string>;
  try {
    await redis.connect();
    server = parseInfo(await redis.info('server'));
  } catch (err) {
    const cause = errorText(lastError() ?? err);
    return [
      unreachable(cause, shown, url),
      skip('eviction', 'no Redis to ask (see redis)'),
      skip('persistence', 'no Redis to ask (see redis)'),
    ];
  }
  const version = server.redis_version ?? 'unknown';
  const cli = redisCliCommand(url);
  return [
    judgeVersion(version, shown),
    judgeEviction(await evictionPolicy(redis), cli),
    judgePersistence(await persistence(redis), cli),
  ];
}

function unreachable(cause: string, shown: string, url: string): CheckResult {
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(cause)) {
    return fail('redis', `Redis at ${shown} refused the login (${cause})`, 'put the user and password in the URL: --redis redis://USER:PASSWORD@host:port (env REDIS_URL)');
  }
  if (/Command timed out/.test(cause)) {
    return fail('redis', `${shown} accepted the connection but did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`, 'check that it is a Redis and not stuck (loading a large dataset, a long script), or point --redis (env REDIS_URL) at yours');
  }
  if (/RESP/.test(cause)) return fail('redis', `${shown} answered, but not as a Redis (${cause})`, 'point --redis (env REDIS_URL) at the Redis: host and port');
  return fail('redis', `Redis at ${shown} is unreachable (${cause})`, `start one: redis-server --port ${portOf(url)} --appendonly yes --maxmemory-policy noeviction, or point --redis (env REDIS_URL) at yours`);
}

function portOf(url: string): string {
  try {
    return new URL(url).port || '6379';
  } catch {
    return '6379';
  }
}

/** INFO's `key:value` lines (sections and blank lines skipped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** Whether `version` ("7.0.15") is at least `min` ([6, 2]); an unparseable one is not. */
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  if (parts.some(Number.isNaN) || parts.length === 0) return false;
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    if (have !== min[i]) return have > min[i]!;
  }
  return true;
}

export function judgeVersion(version: string, shownUrl: string): CheckResult {
  if (versionAtLeast(version, MIN_REDIS)) return ok('redis', `Redis ${version} at ${shownUrl}`);
  return fail('redis', `Redis ${version} at ${shownUrl} is too old: BullMQ 6 needs Redis ${MIN_REDIS.join('.')} or newer`, 'upgrade Redis to 6.2 or newer (7.x recommended), or point --redis (env REDIS_URL) at one');
}

/** The policy, from INFO memory or else CONFIG GET; a string saying why when neither answers. */
async function evictionPolicy(redis: Redis): Promise<{ policy: string } | { unknown: string }> {
  try {
    const policy = parseInfo(await redis.info('memory')).maxmemory_policy;
    if (policy) return { policy };
  } catch {
    // some managed Redis restrict INFO sections; CONFIG GET may still answer
  }
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    if (policy) return { policy };
    return { unknown: 'neither INFO memory nor CONFIG GET maxmemory-policy reported it' };
  } catch (err) {
    return { unknown: `INFO memory has no maxmemory_policy and CONFIG GET was refused (${errorText(err)})` };
  }
}

export function judgeEviction(found: { policy: string } | { unknown: string }, cli: string): CheckResult {
  const fix = `${cli} CONFIG SET maxmemory-policy noeviction, and the line \`maxmemory-policy noeviction\` in redis.conf (or ${cli} CONFIG REWRITE) so a restart keeps it`;
  if ('unknown' in found) return warn('eviction', `could not read maxmemory-policy: ${found.unknown}`, `make sure the Redis (or its provider's setting) uses maxmemory-policy noeviction`);
  if (found.policy === 'noeviction') return ok('eviction', 'maxmemory-policy is noeviction');
  return fail('eviction', `maxmemory-policy is ${found.policy}: BullMQ loses jobs when Redis evicts keys`, fix);
}

interface Persistence {
  /** AOF on; undefined when neither INFO nor CONFIG said. */
  aof: boolean | undefined;
  /** The RDB `save` rules ("3600 1 300 100"; "" = no snapshots); undefined when CONFIG is refused. */
  save: string | undefined;
}

async function persistence(redis: Redis): Promise<Persistence> {
  let aof: boolean | undefined;
  try {
    const enabled = parseInfo(await redis.info('persistence')).aof_enabled;
    if (enabled !== undefined) aof = enabled === '1';
  } catch {
    // fall back to CONFIG GET below
  }
  const config = async (key: string): Promise<string | undefined> => {
    try {
      return ((await redis.config('GET', key)) as string[])[1];
    } catch {
      return undefined;
    }
  };
  if (aof === undefined) {
    const appendonly = await config('appendonly');
    if (appendonly !== undefined) aof = appendonly === 'yes';
  }
  return { aof, save: await config('save') };
}

export function judgePersistence(p: Persistence, cli: string): CheckResult {
  const snapshots = p.save ? `RDB snapshots (save ${p.save})` : '';
  if (p.aof) return ok('persistence', snapshots ? `AOF on, ${snapshots}` : 'AOF on');
  if (p.save) return ok('persistence', `${snapshots}, AOF off: a crash loses the jobs added since the last snapshot (the ledger enqueues them again)`);
  const fix = `${cli} CONFIG SET appendonly yes, and the line \`appendonly yes\` in redis.conf (or ${cli} CONFIG REWRITE) so a restart keeps it`;
  const why = 'a Redis restart loses the queued jobs (the producer\'s ledger enqueues them again, late)';
  if (p.aof === false && p.save === '') return warn('persistence', `no persistence (AOF off, no RDB snapshots): ${why}`, fix);
  const aof = p.aof === false ? 'AOF off' : 'AOF state unreadable';
  const rdb = p.save === '' ? 'no RDB snapshots' : 'RDB snapshot rules unreadable (CONFIG GET refused)';
  return warn('persistence', `persistence unknown (${aof}, ${rdb}): if there is none, ${why}`, fix);
}

/** `redis-cli` with the host, port and TLS of `url`; a password is asked for, never printed. */
export function redisCliCommand(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'redis-cli';
  }
  const args = ['redis-cli'];
  if (u.hostname && !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) args.push('-h', u.hostname);
  if (u.port && u.port !== '6379') args.push('-p', u.port);
  if (u.protocol === 'rediss:') args.push('--tls');
  if (u.username && u.username !== 'default') args.push('--user', decodeURIComponent(u.username));
  if (u.password) args.push('--askpass');
  return args.join(' ');
}
