import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';

/**
 * What a test file makes through the support helpers and must not outlive it: its temp folders
 * (tempDir) and its Redis key prefixes (testPrefix). afterEachFile.ts removes them once the file's
 * own hooks are done, whether its tests passed, failed or never got past their setup.
 */
const dirs: string[] = [];
const prefixes: string[] = [];

export function removedAfterFile(dir: string): string {
  dirs.push(dir);
  return dir;
}

export function keysDeletedAfterFile(prefix: string): string {
  prefixes.push(prefix);
  return prefix;
}

/**
 * `thing` once `start` has started it; when the start fails, `thing` is stopped before the error
 * goes on: its caller gets nothing to stop, and the processes and folders would be left behind.
 */
export async function startedOrStopped<T extends { stop(): Promise<unknown> }>(thing: T, start: (t: T) => Promise<unknown>): Promise<T> {
  try {
    await start(thing);
    return thing;
  } catch (err) {
    await thing.stop();
    throw err;
  }
}

export async function cleanUpFile(redisUrl: string): Promise<void> {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  const patterns = prefixes.splice(0).map((p) => `${p}*`);
  if (patterns.length > 0) await deleteKeys(redisUrl, patterns);
}

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
