import { Cluster, type Redis } from 'ioredis';
import { nodeError, probeClient, safeRedisUrl, unreachableFix, unreachableText, type RedisConnection } from '../shared/redis.js';
import type { RedisTarget } from '../shared/redisTarget.js';
import { fail, ok, skip, warn, type Check, type CheckResult, type CheckStatus } from '../shared/checks.js';
import { errorText } from './check.js';

const COMMAND_TIMEOUT_MS = 2000;

/** BullMQ 6's Lua scripts use commands Redis added in 6.2. */
export const MIN_REDIS: readonly [number, number] = [6, 2];

/**
 * Reachability and version (`redis`), eviction policy (`eviction`) and persistence
 * (`persistence`), over one short-lived connection that never retries: a Redis that is down
 * fails at once instead of being waited for, as the services' own connections would. Through
 * Sentinel the master is checked; in a Cluster every master, each line saying the worst.
 */
export function redisChecks(where: string | RedisTarget, timeoutMs = 8000): Check {
  const target: RedisTarget = typeof where === 'string' ? { kind: 'single', url: where } : where;
  return {
    name: 'redis',
    timeoutMs,
    timeoutFix: `check that ${safeRedisUrl(target.url)} is a Redis and answers (redis-cli ... PING)`,
    run: async (signal) => {
      // The probe's own INFO is the ready check, bounded by the command timeout like every call here.
      const redis = probeClient(target, COMMAND_TIMEOUT_MS, { commands: 'bounded', readyCheck: false });
      // connect() rejects with a bare "Connection is closed."; the error event has the cause.
      let lastError: unknown;
      redis.on('error', (err: Error) => (lastError = nodeError(err)));
      signal.addEventListener('abort', () => redis.disconnect(), { once: true });
      try {
        return await probe(redis, target, () => lastError);
      } finally {
        redis.disconnect();
      }
    },
  };
}

async function probe(redis: RedisConnection, target: RedisTarget, lastError: () => unknown): Promise<CheckResult[]> {
  const shown = safeRedisUrl(target.url);
  const nobody = [skip('eviction', 'no Redis to ask (see redis)'), skip('persistence', 'no Redis to ask (see redis)')];
  let nodes: Redis[];
  try {
    await redis.connect();
    if (redis instanceof Cluster) {
      const state = parseInfo(String(await redis.cluster('INFO'))).cluster_state ?? 'unknown';
      if (state !== 'ok') {
        const fix = `see which slots have no master: redis-cli --cluster check ${target.kind === 'cluster' ? `${target.nodes[0]!.host}:${target.nodes[0]!.port}` : 'HOST:PORT'}`;
        return [fail('redis', `Redis Cluster ${shown} is not serving: cluster_state:${state}`, fix), ...nobody];
      }
      nodes = redis.nodes('master');
    } else {
      nodes = [redis];
    }
    // Each node's INFO server: the version, and the proof that it answers as a Redis.
    const servers = await Promise.all(nodes.map(async (node) => parseInfo(await node.info('server'))));
    const perNode = await Promise.all(
      nodes.map(async (node, i) => {
        const cli = nodeCli(node, target);
        return [
          judgeVersion(servers[i]!.redis_version ?? 'unknown', shown),
          judgeEviction(await evictionPolicy(node), cli),
          judgePersistence(await persistence(node), cli),
        ];
      }),
    );
    const where = nodes.map((node) => `${node.options.host}:${node.options.port}`);
    const results = [0, 1, 2].map((c) => worstOf(perNode.map((r) => r[c]!), where));
    // A setting is per node: the fix goes to every node that may be (or become) the master.
    const also = target.kind === 'sentinel' ? ' (and the same on its replicas: one may become the master)' : target.kind === 'cluster' ? ` (on each master: ${where.join(', ')})` : '';
    return results.map((r) => (r.fix && also ? { ...r, fix: `${r.fix}${also}` } : r));
  } catch (err) {
    return [unreachable(errorText(lastError() ?? err), shown, target), ...nobody];
  }
}

const RANK: Record<CheckStatus, number> = { ok: 0, skip: 1, warn: 2, fail: 3 };

/** One line for several Cluster masters: the worst, naming its node unless all say the same. */
function worstOf(results: CheckResult[], where: string[]): CheckResult {
  if (results.length === 1) return results[0]!;
  const worst = results.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
  if (results.every((r) => r.detail === worst.detail)) return { ...worst, detail: `${worst.detail} (all ${results.length} masters)` };
  return { ...worst, detail: `master ${where[results.indexOf(worst)]}: ${worst.detail}` };
}

/** redis-cli for the node a fix applies to: the URL's, the master Sentinel named, or a Cluster master. */
function nodeCli(node: Redis, target: RedisTarget): string {
  if (target.kind === 'single') return redisCliCommand(target.url);
  const host = target.kind === 'sentinel' ? node.stream?.remoteAddress ?? node.options.host : node.options.host;
  const port = target.kind === 'sentinel' ? node.stream?.remotePort ?? node.options.port : node.options.port;
  const user = target.username ? encodeURIComponent(target.username) : '';
  const auth = user || target.password ? `${user}${target.password ? ':x' : ''}@` : '';
  const scheme = target.kind === 'cluster' && target.tls ? 'rediss' : 'redis';
  return redisCliCommand(`${scheme}://${auth}${host?.includes(':') ? `[${host}]` : host}:${port}`);
}

function unreachable(cause: string, shown: string, target: RedisTarget): CheckResult {
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(cause)) {
    return fail('redis', `Redis at ${shown} refused the login (${cause})`, 'put the user and password in the URL: --redis redis://USER:PASSWORD@host:port (env REDIS_URL)');
  }
  if (/Command timed out/.test(cause)) {
    return fail('redis', `${shown} accepted the connection but did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`, 'check that it is a Redis and not stuck (loading a large dataset, a long script), or point --redis (env REDIS_URL) at yours');
  }
  if (/RESP/.test(cause)) return fail('redis', `${shown} answered, but not as a Redis (${cause})`, 'point --redis (env REDIS_URL) at the Redis: host and port');
  return fail('redis', unreachableText(target, cause), `${unreachableFix(target)}, or point --redis (env REDIS_URL) at yours`);
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
