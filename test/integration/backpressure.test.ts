import { afterAll, describe, expect, inject, it } from 'vitest';
import { SpawnedPipeline, STUB_CONSUMER } from '../support/spawnedPipeline.js';

const MAX_QUEUED = 20;
const QUESTIONS = 150;

describe('backpressure: --max-queued', () => {
  const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
  afterAll(() => pipeline.stop());

  it('a producer with no consumers stops taking at --max-queued, shows it in status, and resumes when consumers come', async () => {
    const { bridge } = pipeline;
    // A backlog before the producer starts (taken as the conversation's backlog), the rest while it holds.
    pipeline.ask(QUESTIONS / 2, 'q');
    const producer = pipeline.producer(['--max-queued', String(MAX_QUEUED)]);
    await producer.waitForLog(/questions queue full/);
    pipeline.ask(QUESTIONS / 2, 'q');
    const unread = () => (bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE to_session = 'b' AND read = 0").get() as { n: number }).n;
    const taken = () => (bridge.db.prepare('SELECT COUNT(*) AS n FROM autopoll_ledger').get() as { n: number }).n;
    // Held at the limit: the other questions stay unread in the bridge, not queued in Redis.
    await new Promise((r) => setTimeout(r, 1500));
    expect(taken()).toBe(MAX_QUEUED);
    expect(unread()).toBe(QUESTIONS - MAX_QUEUED);

    const report = await pipeline.status();
    expect(report.producers).toHaveLength(1);
    expect(report.producers[0]!.backpressure).toBe(true);
    expect(report.queues.questions.waiting).toBe(MAX_QUEUED);
    expect(report.ledger).toMatchObject({ queued: MAX_QUEUED });

    pipeline.consumer([...STUB_CONSUMER, '--stub-latency-ms', '5']);
    await pipeline.expectAllAnsweredOnce();
    expect(producer.hasLog(/below --max-queued again/)).toBe(true);
    expect((await pipeline.status()).producers[0]!.backpressure).toBe(false);
  });
});
