import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AutopollProcess } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { FaultRun, linesMatching } from './support/faultRun.js';

/**
 * Chaos scenario 2: Redis faults under a steady stream of questions, the autopoll processes never
 * restarted. Redis restarted (SIGTERM, then SIGKILL losing its unsynced AOF tail), flushed, and
 * down for 30 s: the ledger in the bridge file brings back whatever Redis lost, and every
 * question ends answered exactly once.
 */
describe('Redis faults', () => {
  let run: FaultRun | undefined;

  afterEach(async () => {
    await run?.cleanup();
    run = undefined;
  });

  const UNREACHABLE = /unreachable/;
  const REACHABLE = /^Redis is reachable again$/;

  /** Each outage said once when it began and once when it ended, not once per reconnect attempt. */
  function outageLines(p: AutopollProcess): { down: number; up: number; order: string[] } {
    const order = p.lines.filter((l) => UNREACHABLE.test(String(l.msg)) || REACHABLE.test(String(l.msg))).map((l) => (REACHABLE.test(String(l.msg)) ? 'up' : 'down'));
    return { down: linesMatching(p, UNREACHABLE).length, up: linesMatching(p, REACHABLE).length, order };
  }

  it('restarted mid-run, by SIGTERM and then by SIGKILL losing its last AOF writes: every question answered once', async () => {
    // Answers slower than the questions come (2 x 4 sessions x 300 ms < 33 a second): waiting
    // questions in Redis when it goes, some of which the lost AOF tail takes with it.
    run = await FaultRun.create({ name: 'redis-restart', stubLatencyMs: 300, lockDurationMs: 3000, reconcileIntervalSec: 2 });
    const r = run;
    const procs = [await r.startProducer(), ...(await Promise.all([r.startConsumer(), r.startConsumer()]))];
    const total = 600;
    const stream = r.stream({ total, perTick: 10, everyMs: 300, tag: 'restart' }); // about 18 s

    await waitFor('150 asked', () => stream.asked() >= 150, 60_000, 50);
    await r.stopRedis('SIGTERM'); // it fsyncs its AOF and exits: nothing lost
    await sleep(2000);
    await r.startRedis();

    await waitFor('400 asked', () => stream.asked() >= 400, 60_000, 50);
    // Nothing was lost by the clean restart, so the reconciler had nothing to repair.
    expect(r.summary().requeued, 'questions re-enqueued after a clean restart').toBe(0);
    await r.stopRedis('SIGKILL');
    // A machine crash with appendfsync everysec loses up to the last second or so of writes.
    expect(r.loseAofTail(128 * 1024)).toBeGreaterThan(0);
    await sleep(1000);
    await r.startRedis();

    await stream.done;
    await r.expectAllAnsweredOnce(120_000);
    // The questions whose enqueue the AOF lost came back from the ledger.
    expect(r.summary().requeued, 'questions the reconciler enqueued again').toBeGreaterThan(0);
    for (const p of procs) {
      const o = outageLines(p);
      // Two outages: each reported at most once (a restart faster than the first reconnect goes unnoticed), and each reported one ended.
      expect(o.down, `outage lines of ${p.child.pid}`).toBeLessThanOrEqual(2);
      expect(o.order, `outage lines of ${p.child.pid}`).toEqual(Array.from({ length: o.down }, () => ['down', 'up']).flat());
    }
    await r.stopAll();
  });

  it('FLUSHALL twice mid-run: the reconciler enqueues again every question Redis forgot, each answered once', async () => {
    // Answers slower than the questions come (2 x 4 sessions x 300 ms < 33 a second): a backlog
    // of waiting questions for each FLUSHALL to wipe.
    run = await FaultRun.create({ name: 'flushall', stubLatencyMs: 300, lockDurationMs: 3000, reconcileIntervalSec: 2 });
    const r = run;
    await r.startProducer();
    await Promise.all([r.startConsumer(), r.startConsumer()]);
    const total = 600;
    const stream = r.stream({ total, perTick: 10, everyMs: 300, tag: 'flush' }); // about 18 s
    const admin = new Redis(r.redis.url, { maxRetriesPerRequest: null });
    try {
      for (const at of [150, 400]) {
        await waitFor(`${at} asked`, () => stream.asked() >= at, 60_000, 50);
        await admin.flushall();
        r.note(`FLUSHALL (${r.answered()} of ${stream.asked()} answered)`);
      }
    } finally {
      admin.disconnect();
    }
    await stream.done;
    await r.expectAllAnsweredOnce(120_000);
    expect(r.summary().requeued, 'questions the reconciler enqueued again').toBeGreaterThan(0);
    expect(r.producer!.hasLog(/^reconciler repaired questions Redis had lost or left behind$/)).toBe(true);
    await r.stopAll();
  });

  it('down for 30 s while questions keep arriving: the same processes resume by themselves, the outage logged once each', async () => {
    run = await FaultRun.create({ name: 'redis-down', stubLatencyMs: 50, lockDurationMs: 3000, reconcileIntervalSec: 2 });
    const r = run;
    const producer = await r.startProducer();
    const consumers = await Promise.all([r.startConsumer(), r.startConsumer()]);
    const procs = [producer, ...consumers];
    const total = 600;
    const stream = r.stream({ total, perTick: 3, everyMs: 300, tag: 'down' }); // about 60 s: 10 s before the outage, 30 s during, 20 s after

    await waitFor('100 asked', () => stream.asked() >= 100, 60_000, 50);
    const linesAtStop = new Map(procs.map((p) => [p, p.lines.length]));
    await r.stopRedis('SIGTERM');
    const askedAtStop = stream.asked();
    await sleep(30_000);
    for (const p of procs) expect(p.child.exitCode, `process ${p.child.pid} still running through the outage`).toBeNull();
    for (const p of procs) {
      expect(outageLines(p), `outage reported once by ${p.child.pid}`).toEqual({ down: 1, up: 0, order: ['down'] });
      // 30 s of reconnect attempts and retried work, and no warning or error said twice.
      const warnings = p.lines.slice(linesAtStop.get(p)!).filter((l) => Number(l.level) >= 40).map((l) => String(l.msg));
      const repeated = warnings.filter((m, i) => warnings.indexOf(m) !== i);
      expect(repeated, `warnings ${p.child.pid} repeated during the outage`).toEqual([]);
    }
    // Taking pauses while Redis is down: the questions asked meanwhile wait unread in the bridge.
    const unread = r.pipeline.bridge.db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE to_session = 'b' AND read = 0`).get() as { n: number };
    r.note(`after 30 s down: ${stream.asked() - askedAtStop} questions asked during the outage, ${unread.n} unread in the bridge`);
    expect(unread.n).toBeGreaterThan(0);
    const linesAtRestart = new Map(procs.map((p) => [p, p.lines.length]));
    await r.startRedis();

    await stream.done;
    await r.expectAllAnsweredOnce(120_000);
    r.summary();
    for (const p of procs) {
      expect(outageLines(p), `outage and recovery reported once by ${p.child.pid}`).toEqual({ down: 1, up: 1, order: ['down', 'up'] });
    }
    // Each consumer's worker took questions again (none stayed stuck after the outage).
    for (const c of consumers) {
      const after = c.lines.slice(linesAtRestart.get(c)!).filter((l) => l.msg === 'question answered').length;
      r.note(`consumer ${c.child.pid} answered ${after} questions after Redis came back`);
      expect(after, `questions consumer ${c.child.pid} answered after the outage`).toBeGreaterThan(0);
    }
    await r.stopAll();
  });
});
