import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultRun } from './support/faultRun.js';

/**
 * Chaos scenario 1: a kill -9 storm. A steady stream of 1,000 questions; every few seconds a
 * random consumer is killed -9 and a new one started (2 or 3 alive), and the producer is killed
 * -9 twice and restarted. Every question must end answered exactly once, the ledger agreeing.
 */
describe('kill -9 storm', () => {
  let run: FaultRun | undefined;

  afterEach(async () => {
    await run?.cleanup();
    run = undefined;
  });

  it('1,000 questions through consumers and a producer killed -9 over and over: each answered exactly once, nothing left behind', async () => {
    // 150 ms per answer keeps a few questions in flight on each consumer, so most kills catch
    // some mid-answer; a short lock hands them to another consumer within seconds.
    run = await FaultRun.create({ name: 'storm', stubLatencyMs: 150, lockDurationMs: 3000, reconcileIntervalSec: 2 });
    const r = run;
    await r.startProducer();
    await Promise.all([r.startConsumer(), r.startConsumer()]);

    const total = 1000;
    // 5 every 300 ms: about 60 s of questions.
    const stream = r.stream({ total, perTick: 5, everyMs: 300, tag: 'storm' });
    const producerKillsAt = [0.3 * total, 0.65 * total];
    let consumerKills = 0;
    let producerKills = 0;
    // Paced by the clock, but never fewer kills than this: on a loaded machine, where a consumer
    // takes seconds to start, the storm outlasts the stream (and hits its backlog).
    const minConsumerKills = 10;
    while (!stream.finished() || consumerKills < minConsumerKills || producerKills < producerKillsAt.length) {
      await sleep(1500 + r.random() * 2500);
      if (producerKills < producerKillsAt.length && stream.asked() >= producerKillsAt[producerKills]!) {
        await r.killProducer();
        producerKills++;
        // Questions keep arriving while no producer runs; a consumer may die meanwhile too.
        await sleep(r.random() * 2000);
        if (r.random() < 0.5) {
          await r.killConsumer(r.consumers[Math.floor(r.random() * r.consumers.length)]!);
          consumerKills++;
        }
        await r.startProducer();
      } else {
        await r.killConsumer(r.consumers[Math.floor(r.random() * r.consumers.length)]!);
        consumerKills++;
      }
      const target = 2 + Math.floor(r.random() * 2);
      while (r.consumers.length < target) await r.startConsumer();
    }
    await stream.done;
    r.note(`storm over: ${consumerKills} consumer kills, ${producerKills} producer kills; ${r.answered()} of ${total} answered`);

    await r.expectAllAnsweredOnce(180_000);
    // The storm did hit questions mid-answer: their kill cost them an attempt.
    const { byAttempts } = r.summary();
    expect(total - (byAttempts['1'] ?? 0), 'answers that took more than one attempt').toBeGreaterThan(0);
    await r.stopAll();
  });
});
