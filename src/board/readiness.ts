import type { Queue, Worker } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { lostBridgeFile } from '../bridge/BridgeDatabase.js';
import type { Db } from '../bridge/openBridge.js';
import { fail, ok, runChecks, type Check, type FailureWording } from '../shared/checks.js';

/** One check's entry in /readyz's JSON. */
export interface ReadinessEntry {
  name: string;
  ok: boolean;
  detail: string;
}

const CHECK_TIMEOUT_MS = 2000;

/** /readyz's words for a check that gave no answer: the error's own message, the timeout in ms. */
const READINESS_WORDING: FailureWording = {
  timedOut: (ms) => `no answer within ${ms} ms`,
  threw: (err) => (err instanceof Error ? err.message : String(err)),
};

/** Runs every check at once, each bounded: a hung dependency is a failed check, not a hung probe. */
export async function readiness(checks: readonly Check[]): Promise<{ ready: boolean; checks: ReadinessEntry[] }> {
  const results = (await runChecks(checks, READINESS_WORDING)).map((r) => ({ name: r.name, ok: r.status === 'ok', detail: r.detail }));
  return { ready: results.every((r) => r.ok), checks: results };
}

/** A readiness check: one line, bounded by /readyz's timeout. */
export function readinessCheck(name: string, run: () => Promise<{ ok: boolean; detail: string }>): Check {
  return {
    name,
    timeoutMs: CHECK_TIMEOUT_MS,
    run: async () => {
      const r = await run();
      return [r.ok ? ok(name, r.detail) : fail(name, r.detail)];
    },
  };
}

export function redisCheck(redis: RedisConnection): Check {
  return readinessCheck('redis', async () => {
    // ioredis queues commands while disconnected; only a live connection can answer at once.
    if (redis.status !== 'ready') return { ok: false, detail: `connection ${redis.status}` };
    await redis.ping();
    return { ok: true, detail: 'PING answered' };
  });
}

/**
 * The bridge file is still there, the same file the producer opened (not replaced or deleted),
 * readable and writable, and the producer's handle still reads it.
 */
export function bridgeCheck(db: Db, path: string): Check {
  return readinessCheck('bridge', async () => {
    const lost = lostBridgeFile(db);
    if (lost) return { ok: false, detail: lost };
    await access(path, constants.R_OK | constants.W_OK);
    db.prepare('SELECT COUNT(*) FROM conversations').get();
    return { ok: true, detail: path };
  });
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

/**
 * What progressCheck reads of a worker, the way BullMQ's LockManager reads a
 * LockManagerWorkerContext rather than a Worker: a consumer is one, the answer writer gives one.
 */
export interface WorkerContext {
  /** BullMQ's worker on the queue: its job starts, and whether it runs. */
  readonly jobs: Pick<Worker, 'on' | 'isRunning'>;
  readonly concurrency: number;
  /** Jobs being worked on now. */
  readonly busy: number;
  /** Why the worker was stopped for good, if it was. */
  readonly stoppedBecause?: string | undefined;
}

export interface ProgressOptions {
  name: string;
  /** The queue's connection: while it is down the check says so instead of queueing a command. */
  redis: RedisConnection;
  worker: WorkerContext;
  queue: Queue;
  stallMs: number;
}

/** Watches a worker's job starts, for progressVerdict. */
export function progressCheck(o: ProgressOptions): Check {
  let lastStart = Date.now();
  o.worker.jobs.on('active', () => (lastStart = Date.now()));
  return readinessCheck(o.name, async () => {
    // Stopped for good is the answer whatever the queue holds, and with it how to fix it.
    const stopped = o.worker.stoppedBecause;
    if (stopped !== undefined) return { ok: false, detail: `stopped: ${stopped}` };
    if (o.redis.status !== 'ready') return { ok: false, detail: 'cannot see its queue: Redis is unreachable' };
    const waiting = await o.queue.getWaitingCount();
    return progressVerdict({
      running: o.worker.jobs.isRunning(),
      waiting,
      busy: o.worker.busy,
      concurrency: o.worker.concurrency,
      idleMs: Date.now() - lastStart,
      stallMs: o.stallMs,
    });
  });
}
