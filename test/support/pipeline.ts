import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { inject } from 'vitest';
import type { Redis } from 'ioredis';
import type { Answerer } from '../../src/consumer/Answerer.js';
import { Consumer } from '../../src/consumer/Consumer.js';
import { StubAnswerer } from '../../src/consumer/StubAnswerer.js';
import type { QuestionWorkerOptions } from '../../src/consumer/QuestionWorker.js';
import { Producer, type ProducerOptions } from '../../src/producer/Producer.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';
import { createRedis, RedisOutageReporter } from '../../src/shared/redis.js';
import type { BridgeFixture, Conversation } from './bridge.js';
import { keysDeletedAfterFile } from './cleanup.js';
import { RUN_MARKER } from './leftovers.js';

/** A fresh key prefix, under the run's (see globalSetup.ts); its keys are deleted after the test file (see cleanup.ts). */
export function testPrefix(): string {
  return keysDeletedAfterFile(`{t${process.env[RUN_MARKER] ?? ''}${randomBytes(4).toString('hex')}}`);
}

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** A pino logger whose lines the test can read. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export function testRedis(url = inject('redisUrl'), logger = testLogger()): Redis {
  return createRedis(url, new RedisOutageReporter(url, logger));
}

export function producerOptions(redis: Redis, prefix: string, bridgeDb: string, extra: Partial<ProducerOptions> = {}): ProducerOptions {
  return {
    connection: redis,
    prefix,
    bridgeDb,
    conversations: [],
    contextRoot: '.',
    contextMaxBytes: 200_000,
    pollIntervalMs: 50,
    busyTimeoutMs: 200,
    reconcileIntervalSec: 60,
    reconcileGraceMs: 5000,
    heartbeatIntervalSec: 15,
    refreshIntervalMs: 200,
    batchSize: 500,
    maxQueued: 10_000,
    answerConcurrency: 100,
    ...extra,
  };
}

/** Producer and stub consumer in this process, over a real Redis and a real bridge file. */
export class InProcessPipeline {
  readonly redis: Redis;
  producer!: Producer;
  readonly consumer: Consumer;

  constructor(
    readonly prefix: string,
    private readonly bridgeDb: string,
    private readonly producerExtra: Partial<ProducerOptions> = {},
    consumerExtra: Partial<QuestionWorkerOptions> & { latencyMs?: number; answerer?: Answerer } = {},
    readonly logger = testLogger(),
  ) {
    this.redis = testRedis(undefined, logger);
    this.consumer = new Consumer(
      consumerExtra.answerer ?? new StubAnswerer(consumerExtra.latencyMs ?? 0),
      { connection: this.redis, prefix, concurrency: 8, attempts: 3, backoffMs: 50, maxDeferMs: 1_800_000, lockDurationMs: 30_000, ...consumerExtra },
      logger,
    );
  }

  /** Started over `count` new conversations of the bridge, each served by its side-b token. */
  static async servingNew(prefix: string, bridge: BridgeFixture, count: number, consumerExtra: Partial<QuestionWorkerOptions> = {}): Promise<{ pipeline: InProcessPipeline; conversations: Conversation[] }> {
    const conversations = Array.from({ length: count }, () => bridge.createConversation());
    const grants = conversations.map((c) => ({ id: c.id, token: c.tokenB }));
    return { pipeline: await new InProcessPipeline(prefix, bridge.path, { conversations: grants }, consumerExtra).start(), conversations };
  }

  /** Started, or (when a part fails to start) closed again: the caller gets no pipeline to close. */
  async start(): Promise<this> {
    try {
      this.producer = await Producer.open(producerOptions(this.redis, this.prefix, this.bridgeDb, this.producerExtra), this.logger);
      await this.producer.start();
      await this.consumer.start();
      return this;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.consumer.close(5_000);
    // Unset when Producer.open failed.
    await this.producer?.close();
    await this.redis.quit();
  }
}
