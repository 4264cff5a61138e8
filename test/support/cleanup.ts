import { Redis } from 'ioredis';

/** Deletes the keys matching any of `patterns` (SCAN globs) on the server at `redisUrl`; returns them. */
export async function deleteKeys(redisUrl: string, patterns: string[]): Promise<string[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    const deleted: string[] = [];
    for (const match of patterns) {
      for await (const keys of redis.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length === 0) continue;
        await redis.unlink(...keys);
        deleted.push(...keys);
      }
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}
