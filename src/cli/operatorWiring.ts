import { Queue } from 'bullmq';
import type { RedisConnection } from '../shared/redis.js';
import { AutopollMetrics } from '../board/metrics.js';
import { OperatorServer } from '../board/OperatorServer.js';
import { bridgeCheck, progressCheck, redisCheck } from '../board/readiness.js';
import type { Consumer } from '../consumer/Consumer.js';
import type { Producer } from '../producer/Producer.js';
import type { Check } from '../shared/checks.js';
import type { Logger } from '../shared/logger.js';
import { ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../shared/queues.js';
import type { Parsed, SERVER } from './options.js';
import type { Tracing } from '../shared/tracing/telemetry.js';

/** A worker with jobs waiting and free slots that started none for this long is not ready. */
const STALL_MS = 60_000;

export interface ServedParts {
  redis: RedisConnection;
  prefix: string;
  producer?: Producer | undefined;
  consumer?: Consumer | undefined;
  board?: { readOnly: boolean } | undefined;
  /** Flushed last on stop: the spans of the work finished while stopping are exported too. */
  tracing?: Tracing | undefined;
}

/**
 * Starts the operator server for what this process runs: readiness covers Redis, the producer's
 * bridge and the workers' progress; metrics follow the producer's and the consumer's events.
 * Returns its URL and a stop function, or undefined when no port is configured.
 */
export async function startOperatorServer(
  o: Parsed<typeof SERVER> & { readOnly?: boolean },
  parts: ServedParts,
  logger: Logger,
): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (o.port === undefined) return undefined;
  const queueOpts = { connection: parts.redis, prefix: parts.prefix };
  const queues = { questions: new Queue(QUESTIONS_QUEUE, queueOpts), answers: new Queue(ANSWERS_QUEUE, queueOpts) };
  for (const q of Object.values(queues)) q.on('error', (err) => logger.debug({ err }, 'operator server queue connection error'));
  const metrics = new AutopollMetrics();
  metrics.watchQueues(Object.values(queues), parts.redis);
  const checks: Check[] = [redisCheck(parts.redis)];
  const { producer, consumer } = parts;
  if (producer) {
    metrics.watchProducer(producer);
    checks.push(bridgeCheck(producer.db, producer.bridgeDbPath));
    const writer = producer.answersWorker;
    checks.push(progressCheck({ name: 'answer-writer', redis: parts.redis, worker: { jobs: writer, concurrency: writer.concurrency, busy: 0 }, queue: queues.answers, stallMs: STALL_MS }));
  }
  if (consumer) {
    metrics.watchAnswers(consumer.answerEvents);
    if (consumer.sessionEvents) metrics.watchSessions(consumer.sessionEvents);
    checks.push(progressCheck({ name: 'question-worker', redis: parts.redis, worker: consumer, queue: queues.questions, stallMs: STALL_MS }));
  }
  try {
    const server = await OperatorServer.start(
      { host: o.host, port: o.port, token: o.boardToken, sessionTtlSeconds: o.sessionTtl, trustProxy: o.trustProxy, checks, metrics, board: parts.board ? { ...queues, readOnly: parts.board.readOnly, redis: parts.redis, prefix: parts.prefix } : undefined },
      logger.child({ component: 'operator-server' }),
    );
    return {
      url: server.url,
      stop: async () => {
        await server.close();
        await Promise.all(Object.values(queues).map((q) => q.close()));
      },
    };
  } catch (err) {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    throw err;
  }
}
