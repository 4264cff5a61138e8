import type { RedisConnection } from '../shared/redis.js';
import { StubAnswerer } from '../consumer/StubAnswerer.js';
import type { Consumer } from '../consumer/Consumer.js';
import type { Producer } from '../producer/Producer.js';
import type { Logger } from '../shared/logger.js';
import { ConfigError, type CONSUMER, type COMMON, type Parsed, type PRODUCER } from './options.js';
import { ownedFiles } from '../shared/ownedFiles.js';
import { checkToolsRoot, prepareContextRoot } from './rootChecks.js';
import type { Tracing } from '../shared/tracing/telemetry.js';

// Each role's code is imported when that role is built: a producer never loads the Agent SDK, a
// consumer never loads the bridge (better-sqlite3), and neither pays for the other's start.

/** Builds the producer from validated options. */
export async function buildProducer(redis: RedisConnection, o: Parsed<typeof COMMON> & Parsed<typeof PRODUCER>, logger: Logger, tracing: Tracing): Promise<Producer> {
  const [{ Producer }] = await Promise.all([import('../producer/Producer.js'), prepareContextRoot(o.contextRoot, ownedFiles(o.bridgeDb), logger)]);
  return Producer.open(
    {
      connection: redis,
      prefix: o.prefix,
      bridgeDb: o.bridgeDb,
      conversations: o.conversation,
      role: o.role,
      contextRoot: o.contextRoot,
      contextMaxBytes: o.contextMaxBytes,
      pollIntervalMs: o.pollIntervalMs,
      busyTimeoutMs: o.busyTimeoutMs,
      reconcileIntervalSec: o.reconcileInterval,
      reconcileGraceMs: 5000,
      heartbeatIntervalSec: o.heartbeatInterval,
      refreshIntervalMs: 2000,
      batchSize: 500,
      maxQueued: o.maxQueued,
      answerConcurrency: 200,
      tracing,
    },
    logger.child({ component: 'producer' }),
  );
}

/**
 * Checks a consumer's options and loads its code, before anything connects or starts (a refused
 * configuration leaves nothing behind; the connection's first outage line comes after the consumer
 * exists); returns its builder. `bridgeDb`: the bridge file, when the producer runs in the same
 * process (`up`), so that the tools never read it by any name.
 */
export async function prepareConsumer(o: Parsed<typeof COMMON> & Parsed<typeof CONSUMER>, logger: Logger, tracing: Tracing, bridgeDb?: string): Promise<(redis: RedisConnection) => Consumer> {
  if (o.minSessions > o.sessions) {
    throw new ConfigError(`invalid configuration:\n  --min-sessions (env AUTOPOLL_MIN_SESSIONS): ${o.minSessions} is more than --sessions (env AUTOPOLL_SESSIONS) ${o.sessions}, the most a consumer runs; lower it or raise --sessions`);
  }
  const owned = ownedFiles(bridgeDb);
  if (o.answerer === 'claude' && o.toolsRoot !== undefined) await checkToolsRoot(o.toolsRoot, owned, logger);
  const [{ Consumer }, claude] = await Promise.all([import('../consumer/Consumer.js'), o.answerer === 'claude' ? import('../consumer/ClaudeAnswerer.js') : undefined]);
  return (redis) => {
    const answerer =
      claude === undefined
        ? new StubAnswerer(o.stubLatencyMs)
        : new claude.ClaudeAnswerer(
            {
              sessions: o.sessions,
              minSessions: o.minSessions,
              sessionIdleTimeoutSec: o.sessionIdleTimeout,
              model: o.model,
              turnTimeoutSec: o.turnTimeout,
              maxTurnsPerSession: o.maxTurnsPerSession,
              maxContextTokens: o.maxContextTokens,
              sessionMemory: o.sessionMemory,
              toolsRoot: o.toolsRoot,
              owned,
              passEnv: o.claudeEnv,
            },
            logger.child({ component: 'claude' }),
          );
    return new Consumer(
      answerer,
      {
        connection: redis,
        prefix: o.prefix,
        concurrency: o.sessions,
        attempts: o.attempts,
        backoffMs: o.backoffMs,
        maxDeferMs: o.maxDefer * 1000,
        lockDurationMs: o.lockDurationMs,
        name: o.name,
        tracing,
      },
      logger.child({ component: 'consumer' }),
    );
  };
}
