import { z } from 'zod';

/** One node: a Sentinel, or a seed node of a Cluster. */
export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is, from `--redis` (`REDIS_URL`) and `--redis-cluster`; `url` as given, for `safeRedisUrl`. */
export type RedisTarget =
  /** One redis-server; ioredis reads the URL itself (database, TLS, its query options). */
  | { kind: 'single'; url: string }
  /** The master that these sentinels name; ioredis follows it across failovers. */
  | { kind: 'sentinel'; url: string; sentinels: HostPort[]; masterName: string; db: number; username?: string; password?: string }
  /** A Redis Cluster, found from these seed nodes. */
  | { kind: 'cluster'; url: string; nodes: HostPort[]; tls: boolean; username?: string; password?: string };

export const REDIS_URL_FORMS =
  'redis://[USER:PASSWORD@]HOST:PORT[/DB] for one Redis (rediss:// for TLS), ' +
  'redis-sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER_NAME[?db=N] for a Sentinel set, ' +
  'or with --redis-cluster redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...] for the seed nodes of a Redis Cluster';

const SENTINEL_PORT = 26379;
const REDIS_PORT = 6379;

/** scheme://authority/path?query, the authority ending at the first / ? or # (as WHATWG URLs do). */
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/;
/** host, [IPv6] or IPv4, with an optional :port. */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$/;

const Port = z.coerce.number().int().min(1, 'a port is 1 to 65535').max(65_535, 'a port is 1 to 65535');
const Db = z.coerce.number({ error: 'db must be a whole number' }).int('db must be a whole number').min(0, 'db must be 0 or more');

const Input = z.object({ url: z.string(), cluster: z.boolean() });

/**
 * `--redis` and `--redis-cluster` as one target. The messages say how to write the URL and never
 * repeat a password: when the URL holds credentials, no part of it is quoted.
 */
export const RedisTargetSchema = Input.transform((input, ctx): RedisTarget => {
  const { url, cluster } = input;
  const fail = (message: string): never => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const parts = URL_PARTS.exec(url.trim());
  if (!parts) return fail(`expected a URL: ${REDIS_URL_FORMS}`);
  const [, rawScheme = '', authority = '', path = '', query] = parts;
  const scheme = rawScheme.toLowerCase();
  // An @ anywhere may end a password (one with an unencoded / shifts the authority): quote nothing then.
  const quotable = !url.includes('@');
  const at = authority.lastIndexOf('@');
  const credentials = decodeCredentials(at < 0 ? undefined : authority.slice(0, at));
  if (credentials === undefined) return fail('the user or password is not valid percent-encoding (write @ as %40, : as %3A, / as %2F)');
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const entries = hostList.split(',');

  const nodes: HostPort[] = [];
  const defaultPort = scheme === 'redis-sentinel' ? SENTINEL_PORT : REDIS_PORT;
  for (const [i, entry] of entries.entries()) {
    const m = HOST_PORT.exec(entry.trim());
    const which = quotable ? `"${entry}"` : `host ${i + 1}`;
    if (!m) {
      const hint = quotable ? '' : '; percent-encode / ? # @ in a password (%2F %3F %23 %40)';
      return fail(entry.trim() ? `${which} is not HOST or HOST:PORT (an IPv6 address goes in brackets: [::1]:6379)${hint}` : `a host is missing: ${REDIS_URL_FORMS}`);
    }
    const port = Port.safeParse(m[2] ?? defaultPort);
    if (!port.success) return fail(`${which}: ${port.error.issues[0]!.message}`);
    nodes.push({ host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: port.data });
  }

  if (scheme === 'redis-sentinel') {
    if (cluster) return fail('a redis-sentinel:// URL names a Sentinel set, not a Redis Cluster: drop --redis-cluster (env AUTOPOLL_REDIS_CLUSTER), or give the Cluster\'s seed nodes as redis://HOST:PORT,HOST:PORT');
    const name = safeDecode(path.replace(/^\//, ''));
    if (!name || name.includes('/')) {
      return fail('expected the master\'s name after the sentinels: redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[?db=N], MASTER_NAME as in the sentinels\' `sentinel monitor MASTER_NAME ...`');
    }
    let db = 0;
    for (const [key, value] of new URLSearchParams(query ?? '')) {
      if (key !== 'db') return fail(`unknown parameter "${key}" in a redis-sentinel:// URL: only ?db=N is understood`);
      const parsed = Db.safeParse(value);
      if (!parsed.success) return fail(parsed.error.issues[0]!.message);
      db = parsed.data;
    }
    return { kind: 'sentinel', url, sentinels: nodes, masterName: name, db, ...credentials };
  }

  if (scheme !== 'redis' && scheme !== 'rediss') {
    return fail(`unknown scheme${quotable ? ` "${rawScheme}://"` : ''}: ${REDIS_URL_FORMS}`);
  }
  if (cluster) {
    if (!/^\/?(0)?$/.test(path)) return fail('a Redis Cluster has only database 0: drop the /DB after the seed nodes');
    if (query) return fail('a Redis Cluster URL takes no ?parameters: redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]');
    return { kind: 'cluster', url, nodes, tls: scheme === 'rediss', ...credentials };
  }
  if (nodes.length > 1) {
    return fail(
      'several hosts are the seed nodes of a Redis Cluster: add --redis-cluster (env AUTOPOLL_REDIS_CLUSTER); ' +
        'a Sentinel set is written redis-sentinel://HOST:PORT,HOST:PORT/MASTER_NAME; one Redis is redis://HOST:PORT',
    );
  }
  if (!/^\/?([0-9]+)?$/.test(path)) return fail('expected a database number after the host: redis://HOST:PORT/DB');
  return { kind: 'single', url };
});

/** The target, or the message saying what is wrong and how to write it. */
export function parseRedisTarget(url: string, cluster: boolean): { target: RedisTarget } | { error: string } {
  const result = RedisTargetSchema.safeParse({ url, cluster });
  return result.success ? { target: result.data } : { error: result.error.issues[0]!.message };
}

function decodeCredentials(userinfo: string | undefined): { username?: string; password?: string } | undefined {
  if (userinfo === undefined) return {};
  const colon = userinfo.indexOf(':');
  const user = safeDecode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : safeDecode(userinfo.slice(colon + 1));
  if (user === undefined || password === undefined) return undefined;
  return { ...(user ? { username: user } : {}), ...(password ? { password } : {}) };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The hash tag Redis Cluster would hash a key under this prefix by: the text between the first
 * `{` and the first `}` after it, if not empty. BullMQ's keys are `<prefix>:<queue>:...`, so a
 * tagged prefix keeps each queue in one slot, as its Lua scripts need.
 */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/** The URL with any password masked, for logs and messages; multi-host and Sentinel URLs too. */
export function safeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    const parts = URL_PARTS.exec(url.trim());
    if (!parts) return '(unparseable REDIS_URL)';
    const [, scheme = '', authority = '', path = '', query] = parts;
    const at = authority.lastIndexOf('@');
    // An @ past the authority: a password with an unencoded / or ?; hide everything up to the last @.
    if (at < 0 && url.includes('@')) return `${scheme}://***@${url.slice(url.lastIndexOf('@') + 1)}`;
    const userinfo = at < 0 ? '' : authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const shownUser = at < 0 ? '' : `${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
    return `${scheme}://${shownUser}${authority.slice(at + 1)}${path}${query === undefined ? '' : `?${query}`}`;
  }
}
