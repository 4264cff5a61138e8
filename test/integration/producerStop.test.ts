import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../src/producer/Producer.js';
import { BridgeFixture } from '../support/bridge.js';
import { capturingLogger, producerOptions, testPrefix, testRedis } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

describe('a producer stopping while Redis answers nothing', () => {
  let bridge: BridgeFixture | undefined;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    bridge?.close();
    await redis?.stop();
  });

  it('close() does not wait for a reconcile pass hung on a Redis that stopped answering, nor its own timeout', async () => {
    bridge = BridgeFixture.create();
    redis = await RedisServer.start();
    const { logger, lines } = capturingLogger();
    const connection = testRedis(redis.url, logger);
    // Reconciled every second with no grace: each pass asks Redis about the queued questions.
    const producer = await Producer.open(producerOptions(connection, testPrefix(), bridge.path, { role: 'haiku_shard', reconcileIntervalSec: 1, reconcileGraceMs: 0 }), logger);
    await producer.start();
    const conv = bridge.createConversation();
    const asked = [bridge.ask(conv.id, 'q_1', 'stays queued: no consumer'), bridge.ask(conv.id, 'q_2', 'also')];
    await waitFor('the questions queued', () => asked.every((id) => bridge!.ledger(id)?.job_id));
    const frozen = redis.freeze(20_000); // there, but answering nothing: the next pass waits on it
    await new Promise((r) => setTimeout(r, 2500));
    const closed = producer.close(60_000);
    expect(await Promise.race([closed.then(() => 'closed'), frozen.then(() => 'Redis answered again')])).toBe('closed');
    expect(lines.at(-1)?.msg).toBe('producer stopped');
    await frozen;
    connection.disconnect();
  }, 60_000);
});
