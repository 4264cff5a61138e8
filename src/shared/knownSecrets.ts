import { parseRedisTarget, type RedisTarget } from './redisTarget.js';

/** What a known secret is, as its replacement names it: never the value. */
export type SecretKind = 'conversation-token' | 'board-token' | 'redis-password' | 'anthropic-key' | 'oauth-token';

export interface KnownSecret {
  kind: SecretKind;
  value: string;
}

/**
 * Shorter values are ignored: replacing a short password everywhere would rewrite ordinary words,
 * and a value that short is no secret worth the damage.
 */
export const MIN_SECRET_LENGTH = 8;

export function replacementFor(kind: SecretKind): string {
  return `[REDACTED:${kind}]`;
}

/**
 * Anthropic's own key shapes, whichever process holds them: `sk-ant-<type><NN>-...`, any type, so
 * one not listed here is caught too (`api03` API keys, `admin01` admin keys, `oat01` OAuth access
 * and `ort01` refresh tokens, `sid01` session keys). The bridge's rules miss them (its `sk-` rule
 * wants 48 letters or digits right after the dash). Only characters that need no escaping in JSON,
 * so a log line stays valid.
 */
const ANTHROPIC_PATTERN = /sk-ant-([a-z]+)[0-9]{2}-[A-Za-z0-9_-]{8,}/g;

/** The OAuth token types (access, refresh); every other type is named a key. */
const OAUTH_TYPES = new Set(['oat', 'ort']);

/**
 * Replaces each known value in `text`, longest first (a value inside another is not left in
 * pieces), and Anthropic's key shapes. Pure.
 */
export function redactKnown(text: string, secrets: readonly KnownSecret[]): string {
  let out = text;
  for (const { kind, value } of secrets) if (out.includes(value)) out = out.split(value).join(replacementFor(kind));
  if (out.includes('sk-ant-')) out = out.replace(ANTHROPIC_PATTERN, (_m, type: string) => replacementFor(OAUTH_TYPES.has(type) ? 'oauth-token' : 'anthropic-key'));
  return out;
}

/**
 * The secrets a running process knows, filled at start from its configuration and later from
 * what it learns (a conversation served by role). Process-wide because every writer (logger, job
 * data, bridge rows) must scrub the same values.
 */
class SecretRegistry {
  private byValue = new Map<string, SecretKind>();
  private sorted: KnownSecret[] = [];
  /** Each value as it shows inside a JSON string too (a password with a quote or backslash is escaped there). */
  private sortedForJson: KnownSecret[] = [];

  add(kind: SecretKind, value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH || this.byValue.has(value)) return;
    this.byValue.set(value, kind);
    const all = [...this.byValue].map(([v, k]) => ({ kind: k, value: v }));
    this.sorted = all.sort((a, b) => b.value.length - a.value.length);
    const escaped = all.map((s) => ({ kind: s.kind, value: JSON.stringify(s.value).slice(1, -1) })).filter((s) => !this.byValue.has(s.value));
    this.sortedForJson = [...all, ...escaped].sort((a, b) => b.value.length - a.value.length);
  }

  addAll(secrets: readonly KnownSecret[]): void {
    for (const s of secrets) this.add(s.kind, s.value);
  }

  redact(text: string): string {
    return redactKnown(text, this.sorted);
  }

  /** For serialised JSON (a log line): the values and their JSON-escaped forms. */
  redactJson(text: string): string {
    return redactKnown(text, this.sortedForJson);
  }

  /** Forgets every value (tests running several configurations in one process). */
  clear(): void {
    this.byValue.clear();
    this.sorted = [];
    this.sortedForJson = [];
  }
}

export const knownSecrets = new SecretRegistry();

/** The password in a `--redis` URL, whichever form (one Redis, Sentinel, Cluster); undefined if none or unparsable. */
function redisPassword(url: unknown, cluster: boolean): string | undefined {
  if (typeof url !== 'string') return undefined;
  const parsed = parseRedisTarget(url, cluster);
  return 'error' in parsed ? undefined : targetPassword(parsed.target);
}

/** The password a Redis target connects with, whichever form; undefined if none. */
export function targetPassword(target: RedisTarget): string | undefined {
  if (target.kind !== 'single') return target.password;
  try {
    return decodeURIComponent(new URL(target.url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** `ID:TOKEN` grants, as flags give them or AUTOPOLL_CONVERSATIONS lists them. */
function grantTokens(grants: unknown): string[] {
  const list = Array.isArray(grants) ? grants : typeof grants === 'string' ? grants.split(',') : [];
  return list.flatMap((g: unknown) => {
    if (typeof g === 'object' && g !== null && typeof (g as { token?: unknown }).token === 'string') return [(g as { token: string }).token];
    if (typeof g === 'string' && g.includes(':')) return [g.slice(g.indexOf(':') + 1).trim()];
    return [];
  });
}

/**
 * The secrets in a command's validated options and in the environment it runs in (a variable
 * counts even when this command takes no such flag: a consumer started with the producer's
 * environment still holds its tokens). Pure.
 */
export function secretsOf(options: Record<string, unknown>, env: NodeJS.ProcessEnv): KnownSecret[] {
  const cluster = options.redisCluster === true || Boolean(env.AUTOPOLL_REDIS_CLUSTER);
  const found: Array<[SecretKind, string | undefined]> = [
    ...grantTokens(options.conversation).map((t): [SecretKind, string] => ['conversation-token', t]),
    ...grantTokens(env.AUTOPOLL_CONVERSATIONS).map((t): [SecretKind, string] => ['conversation-token', t]),
    ['conversation-token', typeof options.token === 'string' ? options.token : undefined],
    ['conversation-token', env.AUTOPOLL_ASK_TOKEN],
    ['board-token', typeof options.boardToken === 'string' ? options.boardToken : undefined],
    ['board-token', env.AUTOPOLL_BOARD_TOKEN],
    ['redis-password', redisPassword(options.redis, cluster)],
    ['redis-password', redisPassword(env.REDIS_URL, cluster)],
    ['anthropic-key', env.ANTHROPIC_API_KEY],
    ['anthropic-key', env.ANTHROPIC_AUTH_TOKEN],
    ['oauth-token', env.CLAUDE_CODE_OAUTH_TOKEN],
  ];
  return found.flatMap(([kind, value]) => (value && value.trim().length >= MIN_SECRET_LENGTH ? [{ kind, value: value.trim() }] : []));
}
