import { afterEach, describe, expect, it } from 'vitest';
import { freePort, RedisServer } from '../support/redisServer.js';
import { SpawnedPipeline, STUB_CONSUMER } from '../support/spawnedPipeline.js';

/** A consumer's start and stop around Redis: "started" means reachable, and an idle one (or producer) stops at once. */
describe('consumer lifecycle', () => {
  let pipeline: SpawnedPipeline;
  let redis: RedisServer | undefined;
  afterEach(async () => {
    await pipeline.stop();
    await redis?.stop();
    redis = undefined;
  });

  it('logs "consumer started" only once Redis answers', async () => {
    const port = await freePort();
    pipeline = new SpawnedPipeline(['--redis', `redis://127.0.0.1:${port}`]);
    const consumer = pipeline.consumer(STUB_CONSUMER);
    await consumer.waitForLog(/is unreachable/);
    expect(consumer.hasLog(/^consumer started$/)).toBe(false);
    redis = await RedisServer.startOn(port);
    await consumer.waitForLog(/^consumer started$/);
    const messages = consumer.lines.map((l) => l.msg);
    expect(messages.indexOf('consumer started')).toBeGreaterThan(messages.findIndex((m) => /is unreachable/.test(String(m))));
  });

  it('an idle consumer exits 0 on SIGTERM without waiting out its drain timeout or lock, even while Redis is unreachable', async () => {
    pipeline = new SpawnedPipeline(['--redis', `redis://127.0.0.1:${await freePort()}`]);
    // Ten minutes each: far past this test's own timeout, so only not waiting for them passes.
    const consumer = pipeline.consumer([...STUB_CONSUMER, '--shutdown-timeout', '600', '--lock-duration-ms', '600000']);
    await consumer.waitForLog(/is unreachable/);
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    expect(consumer.hasLog(/^consumer stopped$/)).toBe(true);
  });

  it('an idle producer, too: SIGTERM while Redis is unreachable exits 0 without waiting out its drain timeout', async () => {
    pipeline = new SpawnedPipeline(['--redis', `redis://127.0.0.1:${await freePort()}`]);
    const producer = pipeline.producer(['--shutdown-timeout', '600']);
    await producer.waitForLog(/is unreachable/);
    producer.child.kill('SIGTERM');
    expect(await producer.exited).toEqual({ code: 0, signal: null });
    expect(producer.hasLog(/^producer stopped$/)).toBe(true);
  });
});
