import { afterAll, describe, expect, inject, it } from 'vitest';
import { SpawnedPipeline, STUB_CONSUMER } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

describe('graceful shutdown and rolling restarts (spawned processes)', () => {
  const pipelines: SpawnedPipeline[] = [];
  const newPipeline = () => {
    const p = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    pipelines.push(p);
    return p;
  };
  afterAll(async () => {
    await Promise.all(pipelines.map((p) => p.stop()));
  });

  it('consumers stopped with SIGTERM and replaced one at a time during a stream lose nothing and answer nothing twice', async () => {
    const pipeline = newPipeline();
    pipeline.producer();
    const consumer = (n: number) => pipeline.consumer([...STUB_CONSUMER, '--stub-latency-ms', '100', '--name', `roll-${n}`, '--shutdown-timeout', '10']);
    let live = [consumer(0), consumer(1)];
    for (const c of live) await c.waitForLog(/consumer started/);
    for (let round = 2; round < 8; round++) {
      pipeline.ask(40, 'q');
      await new Promise((r) => setTimeout(r, 300));
      // Stop the oldest while it has questions in flight; start its replacement.
      const [oldest, ...rest] = live;
      oldest!.child.kill('SIGTERM');
      const next = consumer(round);
      live = [...rest, next];
      expect(await oldest!.exited).toEqual({ code: 0, signal: null });
      expect(oldest!.hasLog(/^stopped$/)).toBe(true);
      // As an orchestrator does: the next one is stopped only once its replacement is up.
      await next.waitForLog(/consumer started/);
    }
    pipeline.ask(40, 'q');
    await pipeline.expectAllAnsweredOnce(45_000);
  });

  it('SIGTERM: board, producer and consumer each exit 0 after logging "stopped"; a second signal exits at once', async () => {
    const pipeline = newPipeline();
    const { bridge, conv } = pipeline;
    const board = pipeline.spawn(['board', ...pipeline.common, '--port', '0']);
    const producer = pipeline.producer(['--port', '0']);
    const slow = pipeline.consumer(['--answerer', 'stub', '--stub-latency-ms', '20000', '--sessions', '1', '--shutdown-timeout', '30']);
    await board.waitForLog(/operator server listening/);
    await producer.waitForLog(/producer started/);
    await slow.waitForLog(/consumer started/);
    bridge.ask(conv.id, 'q_slow', 'a question that takes 20 s');
    await waitFor('the slow question in flight', () => (bridge.db.prepare("SELECT COUNT(*) AS n FROM autopoll_ledger WHERE state = 'queued'").get() as { n: number }).n === 1);
    await new Promise((r) => setTimeout(r, 500));

    // First signal: the consumer waits for its 20 s question; the second one ends it now.
    const started = Date.now();
    slow.child.kill('SIGTERM');
    await slow.waitForLog(/stopping: no new work/);
    slow.child.kill('SIGTERM');
    expect((await slow.exited).code).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(slow.hasLog(/second signal: exiting now/)).toBe(true);

    for (const p of [board, producer]) {
      p.child.kill('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(p.hasLog(/^stopped$/)).toBe(true);
    }
  });
});
