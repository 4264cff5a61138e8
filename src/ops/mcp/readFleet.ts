import { Queue } from 'bullmq';
import { listConsumers } from '../../shared/ConsumerPresence.js';
import { listProducers } from '../../shared/ProducerPresence.js';
import { QUESTIONS_QUEUE } from '../../shared/queues.js';
import type { RedisConnection } from '../../shared/redis.js';
import { jobCounts } from '../status/collectStatus.js';

/** What Redis says of the fleet serving a role: shard_status's second half. */
export interface FleetFacts {
  /** Questions of every conversation in the deployment's queue, by BullMQ state. */
  queue: { waiting: number; active: number; delayed: number; failed: number };
  producers: Array<{ name: string; host: string; role: string | null; ageSeconds: number }>;
  consumers: Array<{ name: string; host: string; state: string; busy: number; liveSessions: number; maxSessions: number; ageSeconds: number }>;
}

/** Read once from the deployment's Redis (the caller's connection, left open): the queue, and the producers of the role with every consumer. */
export async function readFleet(redis: RedisConnection, prefix: string, role: string | null, now = Date.now()): Promise<FleetFacts> {
  const questions = new Queue(QUESTIONS_QUEUE, { connection: redis, prefix });
  questions.on('error', () => undefined); // the awaited calls below reject instead
  try {
    const [counts, producers, consumers] = await Promise.all([
      jobCounts(questions),
      listProducers(redis, prefix, now),
      listConsumers(redis, prefix, now),
    ]);
    const age = (seenAt: number) => Math.max(0, Math.round((now - seenAt) / 100) / 10);
    return {
      queue: { waiting: counts.waiting + counts.prioritized, active: counts.active, delayed: counts.delayed, failed: counts.failed },
      producers: producers.filter((p) => role === null || p.role === role).map((p) => ({ name: p.name, host: p.host, role: p.role, ageSeconds: age(p.seenAt) })),
      consumers: consumers.map((c) => ({
        name: c.name, host: c.host, state: c.state, busy: c.busy,
        liveSessions: c.liveSessions ?? c.sessions, maxSessions: c.maxSessions ?? c.sessions, ageSeconds: age(c.seenAt),
      })),
    };
  } finally {
    await questions.close();
  }
}
