/**
 * One phase of the scale-out benchmark on its own stack: the producer and N consumers started and
 * waited for, the bridge kept topped up, a window measured after a warm-up, then every answer
 * waited for and the answered-once check.
 */
import type { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import type { BridgeFixture, Conversation } from '../../test/support/bridge.js';
import { Sampler } from '../sampler.js';
import type { ScaleConfig, ScalePhase } from '../scale.js';
import { type AutopollProcess } from '../../test/support/cli.js';
import { checkBridge } from '../../test/support/exactlyOnce.js';
import { round } from '../../test/support/numbers.js';
import { waitFor } from '../../test/support/wait.js';
import { AnswerCounter, insertMany, nowMs } from '../bridgeTraffic.js';
import { CpuMeter, type CpuUse } from '../cpuMeter.js';
import { BenchStack } from '../stack.js';

interface Consumer {
  name: string;
  service: AutopollProcess;
}

export async function runPhase(consumerCount: number, config: ScaleConfig, log: (line: string) => void): Promise<ScalePhase> {
  const tag = `scale-${consumerCount}`;
  const sessionsTotal = consumerCount * config.sessionsPerConsumer;
  const idealQps = round((sessionsTotal * 1000) / config.stubLatencyMs, 2);
  const stack = await BenchStack.start(tag);
  try {
    const { bridge, questions } = stack;
    const conv = bridge.createConversation();
    log(`[${tag}] ${consumerCount} consumer(s) x ${config.sessionsPerConsumer} sessions, stub answerer ${config.stubLatencyMs} ms; ideal ${idealQps} q/s`);
    const { producer, producerReadySec, consumers, consumersReadySec } = await startFleet(tag, stack, conv, consumerCount, config);
    log(`[${tag}]   producer ready after ${producerReadySec} s, consumers after ${consumersReadySec} s`);
    const guard = [producer, ...consumers.map((c) => c.service)];

    // Keep `backlog` questions unanswered in the bridge: more than the sessions can take at once, so the queue never runs dry.
    const answers = new AnswerCounter(bridge, conv, guard);
    const mark = answers.mark();
    const backlog = sessionsTotal + Math.ceil(idealQps * config.backlogSec);
    const topUp = new TopUp(bridge, conv, tag, backlog, () => answers.count(mark).n);
    try {
      await answers.waitFor(mark, 1, 30_000);
      await sleep(config.warmupSec * 1000);

      const pids = { producer: producer.pid, ...Object.fromEntries(consumers.map((c) => [`consumer ${c.name}`, c.service.pid])), redis: stack.redisPid, bench: process.pid };
      log(`[${tag}]   measuring ${config.windowSec} s (backlog kept at ${backlog} questions)`);
      const window = await measureWindow(questions, pids, config, guard);

      await topUp.stop();
      const asked = topUp.asked;
      const askedAt = nowMs();
      await answers.waitFor(mark, asked, 60_000);
      const drainSec = round((nowMs() - askedAt) / 1000, 2);

      const inWindow = (ms: number | undefined) => ms !== undefined && ms >= window.start && ms < window.end;
      const answeredInWindow = answerTimes(bridge, conv, mark).filter(inWindow).length;
      const windowSec = (window.end - window.start) / 1000;
      const jobs = await jobsByConsumer(questions, consumers, inWindow);
      const check = checkBridge(bridge, conv, asked);
      const phase: ScalePhase = {
        consumers: consumerCount,
        sessionsTotal,
        idealQps,
        producerReadySec,
        consumersReadySec,
        windowSec: round(windowSec, 2),
        answeredInWindow,
        questionsPerSec: round(answeredInWindow / windowSec, 2),
        perConsumer: jobs.perConsumer,
        queue: queueFigures(window.samples),
        cpu: window.usage,
        asked,
        drainSec,
        jobs: jobs.counts,
        check,
        logLines: {
          warnings: guard.reduce((s, p) => s + p.warnings, 0),
          errors: guard.reduce((s, p) => s + p.errors, 0),
          first: guard.flatMap((p) => p.notable.map((m) => `${p.name} ${m}`)).slice(0, 5),
        },
      };
      log(`[${tag}]   ${phase.answeredInWindow} answered in ${phase.windowSec} s: ${phase.questionsPerSec} q/s (ideal ${idealQps}); ${asked} asked, all answered ${drainSec} s after the last`);
      return phase;
    } finally {
      await topUp.stop().catch(() => undefined);
    }
  } finally {
    await stack.close();
  }
}

/** The producer (until its first heartbeat), then the consumers (until each logged `consumer started`). */
async function startFleet(
  tag: string, stack: BenchStack, conv: Conversation, consumerCount: number, config: ScaleConfig,
): Promise<{ producer: AutopollProcess; producerReadySec: number; consumers: Consumer[]; consumersReadySec: number }> {
  const { producer, readySec: producerReadySec } = await stack.startProducer(conv, { name: `producer (${tag})` });

  // At info level a consumer logs `consumer started` (and a line per answer, a few dozen a second here).
  const spawnedAt = nowMs();
  const consumers = Array.from({ length: consumerCount }, (_, i) => {
    const name = `c${i + 1}`;
    const service = stack.service({
      name: `consumer ${name} (${tag})`,
      args: ['consumer', ...stack.commonArgs('info'), '--answerer', 'stub', '--stub-latency-ms', String(config.stubLatencyMs), '--sessions', String(config.sessionsPerConsumer), '--name', name],
    });
    return { name, service };
  });
  const guard = [producer, ...consumers.map((c) => c.service)];
  await waitFor('every consumer to log `consumer started`', () => consumers.every((c) => (c.service.logged.get('consumer started') ?? 0) > 0), { timeoutMs: 60_000, everyMs: 20, guard });
  return { producer, producerReadySec, consumers, consumersReadySec: round((nowMs() - spawnedAt) / 1000, 2) };
}

/** Every 50 ms, asks as many questions as keep `backlog` of them unanswered, until stopped. */
class TopUp {
  asked = 0;
  private asking = true;
  private readonly loop: Promise<void>;

  constructor(bridge: BridgeFixture, conv: Conversation, tag: string, backlog: number, answered: () => number) {
    this.loop = (async () => {
      while (this.asking) {
        const missing = backlog - (this.asked - answered());
        if (missing > 0) {
          await insertMany(bridge, conv, tag, missing, 100, this.asked);
          this.asked += missing;
        }
        await sleep(50);
      }
    })();
  }

  /** Stops asking; resolves once the questions under way are in the bridge. */
  async stop(): Promise<void> {
    this.asking = false;
    await this.loop;
  }
}

/** The measured window: its bounds (ms), the questions queue sampled every 250 ms, and CPU over it. */
async function measureWindow(
  questions: Queue, pids: Record<string, number>, config: ScaleConfig, guard: AutopollProcess[],
): Promise<{ start: number; end: number; samples: Array<{ waiting: number; active: number }>; usage: CpuUse }> {
  const samples: Array<{ waiting: number; active: number }> = [];
  const sampler = new Sampler(250, async () => {
    const c = await questions.getJobCounts('wait', 'prioritized', 'delayed', 'active');
    samples.push({ waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 });
  });
  const cpu = new CpuMeter(pids);
  cpu.start();
  const start = nowMs();
  sampler.start();
  let end: number;
  try {
    await waitFor('the end of the window', () => nowMs() - start >= config.windowSec * 1000, { timeoutMs: config.windowSec * 1000 + 10_000, everyMs: 100, guard });
    end = nowMs();
  } finally {
    await sampler.stop();
  }
  return { start, end, samples, usage: cpu.stop() };
}

/** When each answer row after `mark` was committed, ms. */
function answerTimes(bridge: BridgeFixture, conv: Conversation, mark: number): number[] {
  return (bridge.db
    .prepare("SELECT timestamp FROM messages WHERE id > ? AND conversation_id = ? AND from_session = 'b'")
    .pluck()
    .all(mark, conv.id) as string[]).map((t) => (parseBridgeTimestamp(t) ?? 0) / 1000);
}

/** Completed question jobs by the consumer that ran them (BullMQ processedBy), in the window and over the phase; and the job counts. */
async function jobsByConsumer(
  questions: Queue, consumers: Consumer[], inWindow: (ms: number | undefined) => boolean,
): Promise<{ perConsumer: ScalePhase['perConsumer']; counts: ScalePhase['jobs'] }> {
  const completed = await questions.getJobs(['completed'], 0, -1);
  const failed = await questions.getJobCountByTypes('failed');
  const perConsumer: ScalePhase['perConsumer'] = Object.fromEntries(consumers.map((c) => [c.name, { window: 0, total: 0 }]));
  let withoutProcessedBy = 0;
  for (const job of completed) {
    const by = job.processedBy;
    if (!by) {
      withoutProcessedBy++;
      continue;
    }
    const counts = (perConsumer[by] ??= { window: 0, total: 0 });
    counts.total++;
    if (inWindow(job.finishedOn)) counts.window++;
  }
  return {
    perConsumer,
    counts: { completed: completed.length, failed, startedMoreThanOnce: completed.filter((j) => (j.attemptsStarted ?? 0) > 1).length, withoutProcessedBy },
  };
}

function queueFigures(samples: Array<{ waiting: number; active: number }>): ScalePhase['queue'] {
  return {
    samples: samples.length,
    minWaiting: Math.min(...samples.map((s) => s.waiting)),
    maxWaiting: Math.max(...samples.map((s) => s.waiting)),
    minActive: Math.min(...samples.map((s) => s.active)),
    maxActive: Math.max(...samples.map((s) => s.active)),
  };
}
