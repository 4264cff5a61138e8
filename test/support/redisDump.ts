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
