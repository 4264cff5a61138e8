import type { Worker } from 'bullmq';
import type { RedisConnection } from './redis.js';

/** Whether `promise` settled within `ms` (it is left running either way). */
export function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);
}

/**
 * `promise`, unless `stopping` aborts first (a shutdown): then it rejects at once, and `promise` is
 * left to settle on its own (its owner still handles it).
 */
export function unlessStopped<T>(promise: Promise<T>, stopping: AbortSignal | undefined): Promise<T> {
  if (!stopping) return promise;
  let onAbort = (): void => undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('the consumer is shutting down'));
    if (stopping.aborted) onAbort();
    else stopping.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, stopped]).finally(() => stopping.removeEventListener('abort', onAbort));
}

/** How long an idle worker's close may take before it is left to finish on its own. */
const IDLE_CLOSE_MS = 1000;

/**
 * Closes a worker: it stops taking jobs and waits for the `inFlight` jobs up to `timeoutMs`. Past
 * that, the jobs are cancelled (processors hand them back) and the close is left to finish on its
 * own: BullMQ's close never settles while Redis is down (and a second close returns the first's
 * promise), so it cannot be awaited without a bound. The caller then closes the connection. With
 * nothing in flight there is nothing to wait for, but BullMQ's close would still wait for its
 * pending fetch, which a Redis outage holds: it gets only a moment.
 */
export async function closeWorker(worker: Worker, timeoutMs: number, inFlight: number): Promise<boolean> {
  if (await within(worker.close(), inFlight > 0 ? timeoutMs : IDLE_CLOSE_MS)) return true;
  worker.cancelAllJobs('shutting down');
  await within(worker.close(), 1000);
  return false;
}

/** QUIT when Redis answers, a plain disconnect when it does not. */
export async function closeRedis(redis: RedisConnection, timeoutMs = 1000): Promise<void> {
  if (!(await within(redis.quit().catch(() => undefined), timeoutMs))) redis.disconnect();
}
