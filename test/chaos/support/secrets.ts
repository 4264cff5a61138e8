import { Redis } from 'ioredis';

/**
 * Everything Redis holds under a deployment's prefix, as one text to search: every key's name
 * and contents (hashes field by field, lists, sets, sorted sets with scores, streams entry by
 * entry, strings). BullMQ keeps a job's data, return value, failed reason and progress in its
 * hash, its log lines in a list, and events (return values, failed reasons) in a stream.
 */
export async function redisDump(url: string, prefix: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000');
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        switch (type) {
          case 'hash':
            value = await redis.hgetall(key);
            break;
          case 'list':
            value = await redis.lrange(key, 0, -1);
            break;
          case 'set':
            value = await redis.smembers(key);
            break;
          case 'zset':
            value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
            break;
          case 'stream':
            value = await redis.xrange(key, '-', '+');
            break;
          case 'string':
            value = await redis.get(key);
            break;
          default:
            value = `(${type})`;
        }
        parts.push(`${key} ${type} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

/** Every key under the prefix, for a test to show it looked at something. */
export async function redisKeyCount(url: string, prefix: string): Promise<number> {
  return (await redisDump(url, prefix)).split('\n').filter(Boolean).length;
}

/**
 * PROTOCOL.md's redaction table, written out again from the page (not taken from src/), in its
 * order, `.` matching newlines (DOTALL), `(?i)` as the `i` flag. The texts these tests redact
 * use ASCII spaces only, where JavaScript's and Python's `\s` agree.
 */
const PROTOCOL_RULES: Array<[RegExp, string]> = [
  [/AKIA[0-9A-Z]{16}/gs, 'AWS_KEY_REDACTED'],
  [/-----BEGIN[^-]+PRIVATE KEY-----.*?-----END[^-]+PRIVATE KEY-----/gs, 'PRIVATE_KEY_REDACTED'],
  [/Bearer [A-Za-z0-9\-._~+/]+=*/gs, 'BEARER_TOKEN_REDACTED'],
  [/password["\s:=]+[^\s"]+/gis, 'PASSWORD_REDACTED'],
  [/api[_-]?key["\s:=]+[^\s"]+/gis, 'API_KEY_REDACTED'],
  [/secret["\s:=]+[^\s"]+/gis, 'SECRET_REDACTED'],
  [/ghp_[A-Za-z0-9]{36}/gs, 'GITHUB_TOKEN_REDACTED'],
  [/sk-[A-Za-z0-9]{48}/gs, 'OPENAI_KEY_REDACTED'],
];

export function protocolRedact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PROTOCOL_RULES) out = out.replace(pattern, replacement);
  return out;
}

/** A secret to look for, and what it is (for the failure message). */
export type Needle = readonly [label: string, text: string];

/**
 * The needles found in `haystack`, raw or JSON-escaped (as they sit inside job data), each with
 * a little of the text around its first hit.
 */
export function leaksIn(haystack: string, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const [label, needle] of needles) {
    for (const form of [needle, JSON.stringify(needle).slice(1, -1)]) {
      const at = haystack.indexOf(form);
      if (at < 0) continue;
      found.push(`${label}: ...${haystack.slice(Math.max(0, at - 120), at + form.length + 40)}...`);
      break;
    }
  }
  return found;
}
