import type { Queue, Worker } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { lostBridgeFile } from '../bridge/BridgeDatabase.js';
import type { Db } from '../bridge/openBridge.js';
import { within } from '../shared/closing.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReadinessCheck {
  name: string;
  run(): Promise<{ ok: boolean; detail: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Runs every check at once, each bounded: a hung dependency is a failed check, not a hung probe. */
export async function runChecks(checks: ReadinessCheck[]): Promise<{ ready: boolean; checks: CheckResult[] }> {
  const results = await Promise.all(
    checks.map(async (c): Promise<CheckResult> => {
      let result = { ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` };
      // Through a promise, so that a check throwing before its first await fails alone, not the probe.
      const run = Promise.resolve().then(() => c.run()).then(
        (r) => (result = r),
        (err: unknown) => (result = { ok: false, detail: err instanceof Error ? err.message : String(err) }),
      );
      await within(run, CHECK_TIMEOUT_MS);
      return { name: c.name, ...result };
    }),
  );
  return { ready: results.every((r) => r.ok), checks: results };
}

export function redisCheck(redis: RedisConnection): ReadinessCheck {
  return {
    name: 'redis',
    async run() {
      // ioredis queues commands while disconnected; only a live connection can answer at once.
      if (redis.status !== 'ready') return { ok: false, detail: `connection ${redis.status}` };
      await redis.ping();
      return { ok: true, detail: 'PING answered' };
    },
  };
}

/**
 * The bridge file is still there, the same file the producer opened (not replaced or deleted),
 * readable and writable, and the producer's handle still reads it.
 */
export function bridgeCheck(db: Db, path: string): ReadinessCheck {
  return {
    name: 'bridge',
    async run() {
      const lost = lostBridgeFile(db);
      if (lost) return { ok: false, detail: lost };
      await access(path, constants.R_OK | constants.W_OK);
      db.prepare('SELECT COUNT(*) FROM conversations').get();
      return { ok: true, detail: path };
    },
  };
}

export interface ProgressState {
  running: boolean;
  waiting: number;
  busy: number;
  concurrency: number;
  /** Milliseconds since the worker last started a job (or since it started, if never). */
  idleMs: number;
  stallMs: number;
}

/**
 * Whether a worker is doing its job. Jobs waiting while the worker has free slots and has
 * started nothing for `stallMs` is a worker that stopped taking work (as one can after a Redis
 * outage): not ready, so an orchestrator restarts it.
 */
export function progressVerdict(s: ProgressState): { ok: boolean; detail: string } {
  if (!s.running) return { ok: false, detail: 'the worker is not running' };
  if (s.waiting > 0 && s.busy < s.concurrency && s.idleMs > s.stallMs) {
    return { ok: false, detail: `${s.waiting} jobs waiting, ${s.concurrency - s.busy} free slots, none started for ${Math.round(s.idleMs / 1000)} s` };
  }
  return { ok: true, detail: `${s.busy}/${s.concurrency} busy, ${s.waiting} waiting` };
}

export interface ProgressOptions {
  name: string;
  /** The queue's connection: while it is down the check says so instead of queueing a command. */
  redis: RedisConnection;
  worker: Worker;
  queue: Queue;
  concurrency: number;
  busy: () => number;
  /** Why the worker was stopped for good, if it was. */
  stopped?: () => string | undefined;
  stallMs: number;
}

/** Watches a worker's job starts, for progressVerdict. */
export function progressCheck(o: ProgressOptions): ReadinessCheck {
  let lastStart = Date.now();
  o.worker.on('active', () => (lastStart = Date.now()));
  return {
    name: o.name,
    async run() {
      // Stopped for good is the answer whatever the queue holds, and with it how to fix it.
      const stopped = o.stopped?.();
      if (stopped !== undefined) return { ok: false, detail: `stopped: ${stopped}` };
      if (o.redis.status !== 'ready') return { ok: false, detail: 'cannot see its queue: RedisConnection is unreachable' };
      const waiting = await o.queue.getWaitingCount();
      return progressVerdict({
        running: o.worker.isRunning(),
        waiting,
        busy: o.busy(),
        concurrency: o.concurrency,
        idleMs: Date.now() - lastStart,
        stallMs: o.stallMs,
      });
    },
  };
}
