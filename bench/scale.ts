/**
 * The scale-out benchmark: one producer, a private redis-server, and 1, 2, 4 ... consumer
 * processes of the built CLI, each with the stub answerer at a fixed latency (500 ms) and the
 * same number of sessions. A phase per consumer count measures steady-state throughput: every
 * consumer is up (it logged `consumer started`) before the first question, the bridge is kept
 * topped up so that the questions queue never runs dry, and only the answers committed inside a
 * window that opens after a warm-up are counted. With a sleeping answerer the ideal is
 * sessions x (1000 / latency) questions a second; scaling efficiency compares N consumers with
 * N times one consumer.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBridgeTimestamp } from '../src/shared/timestamp.js';
import { checkBridge, type BridgeCheck } from '../test/support/exactlyOnce.js';
import { round } from '../test/support/numbers.js';
import { waitFor } from '../test/support/wait.js';
import { AnswerCounter, insertMany, nowMs } from './bridgeTraffic.js';
import { CpuMeter, type CpuUse } from './cpuMeter.js';
import { table } from './numbers.js';
import { BenchStack } from './stack.js';

export const SCALE_TARGETS = {
  /** Throughput of the largest fleet / (its consumers x one consumer's throughput). */
  efficiency: 0.9,
};

export interface ScaleConfig {
  /** Consumer processes per phase, e.g. [1, 2, 4]. */
  consumers: number[];
  /** --sessions of every consumer. */
  sessionsPerConsumer: number;
  /** --stub-latency-ms. */
  stubLatencyMs: number;
  /** Seconds measured per phase. */
  windowSec: number;
  /** Seconds between the first answer and the window, for every session to be busy. */
  warmupSec: number;
  /** The bench keeps this many seconds of ideal throughput (plus one question per session) unanswered in the bridge. */
  backlogSec: number;
}

export interface ScalePhase {
  consumers: number;
  sessionsTotal: number;
  /** sessions x 1000 / latency. */
  idealQps: number;
  /** Producer spawn -> first heartbeat; consumers spawn -> all logged `consumer started`. */
  producerReadySec: number;
  consumersReadySec: number;
  /** The window actually measured (a little over windowSec: timers). */
  windowSec: number;
  /** Answer rows committed to the bridge inside the window. */
  answeredInWindow: number;
  questionsPerSec: number;
  /** Questions jobs finished inside the window, by the consumer that ran them (BullMQ processedBy), and over the whole phase. */
  perConsumer: Record<string, { window: number; total: number }>;
  /** Questions waiting in Redis (wait + prioritized + delayed) and active, sampled every 250 ms in the window. */
  queue: { samples: number; minWaiting: number; maxWaiting: number; minActive: number; maxActive: number };
  /** CPU over the window; percent of one core. */
  cpu: CpuUse;
  /** Questions asked in the phase; seconds from the end of asking to the last answer. */
  asked: number;
  drainSec: number;
  /** Question jobs: completed, failed, run more than once (attemptsStarted > 1), and those without processedBy. */
  jobs: { completed: number; failed: number; startedMoreThanOnce: number; withoutProcessedBy: number };
  check: BridgeCheck;
  logLines: { warnings: number; errors: number; first: string[] };
}

export interface ScaleResult {
  benchmark: 'scale';
  targets: typeof SCALE_TARGETS;
  config: ScaleConfig;
  phases: ScalePhase[];
  /** Per phase: throughput / (consumers x the smallest phase's throughput per consumer). */
  efficiency: Array<{ consumers: number; efficiency: number }>;
}

export async function runScaleBench(config: ScaleConfig, log: (line: string) => void, stop: AbortSignal): Promise<ScaleResult> {
  const phases: ScalePhase[] = [];
  for (const consumers of config.consumers) {
    if (stop.aborted) break;
    phases.push(await runPhase(consumers, config, log));
  }
  const base = [...phases].sort((a, b) => a.consumers - b.consumers)[0];
  const perConsumer = base ? base.questionsPerSec / base.consumers : 0;
  return {
    benchmark: 'scale',
    targets: SCALE_TARGETS,
    config,
    phases,
    efficiency: phases.map((p) => ({ consumers: p.consumers, efficiency: perConsumer ? round(p.questionsPerSec / (p.consumers * perConsumer), 3) : 0 })),
  };
}

async function runPhase(consumerCount: number, config: ScaleConfig, log: (line: string) => void): Promise<ScalePhase> {
  const tag = `scale-${consumerCount}`;
  const sessionsTotal = consumerCount * config.sessionsPerConsumer;
  const idealQps = round((sessionsTotal * 1000) / config.stubLatencyMs, 2);
  const stack = await BenchStack.start(tag);
  try {
    const { bridge, questions } = stack;
    const conv = bridge.createConversation();
    log(`[${tag}] ${consumerCount} consumer(s) x ${config.sessionsPerConsumer} sessions, stub answerer ${config.stubLatencyMs} ms; ideal ${idealQps} q/s`);
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
    const consumersReadySec = round((nowMs() - spawnedAt) / 1000, 2);
    log(`[${tag}]   producer ready after ${producerReadySec} s, consumers after ${consumersReadySec} s`);

    // Keep `backlog` questions unanswered in the bridge: more than the sessions can take at once, so the queue never runs dry.
    const answers = new AnswerCounter(bridge, conv, guard);
    const mark = answers.mark();
    const backlog = sessionsTotal + Math.ceil(idealQps * config.backlogSec);
    let asked = 0;
    let asking = true;
    const topUp = (async () => {
      while (asking) {
        const missing = backlog - (asked - answers.count(mark).n);
        if (missing > 0) {
          await insertMany(bridge, conv, tag, missing, 100, asked);
          asked += missing;
        }
        await sleep(50);
      }
    })();
    try {
      await answers.waitFor(mark, 1, 30_000);
      await sleep(config.warmupSec * 1000);

      const samples: Array<{ waiting: number; active: number }> = [];
      let sampling: Promise<void> | undefined;
      const sample = async () => {
        const c = await questions.getJobCounts('wait', 'prioritized', 'delayed', 'active');
        samples.push({ waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 });
      };
      const pids = { producer: producer.pid, ...Object.fromEntries(consumers.map((c) => [`consumer ${c.name}`, c.service.pid])), redis: stack.redisPid, bench: process.pid };
      const cpu = new CpuMeter(pids);
      log(`[${tag}]   measuring ${config.windowSec} s (backlog kept at ${backlog} questions)`);
      cpu.start();
      const windowStart = nowMs();
      const sampler = setInterval(() => {
        if (!sampling) sampling = sample().catch(() => undefined).finally(() => (sampling = undefined));
      }, 250);
      let windowEnd: number;
      try {
        await waitFor('the end of the window', () => nowMs() - windowStart >= config.windowSec * 1000, { timeoutMs: config.windowSec * 1000 + 10_000, everyMs: 100, guard });
        windowEnd = nowMs();
      } finally {
        clearInterval(sampler);
        await sampling;
      }
      const usage = cpu.stop();

      asking = false;
      await topUp;
      const askedAt = nowMs();
      await answers.waitFor(mark, asked, 60_000);
      const drainSec = round((nowMs() - askedAt) / 1000, 2);

      const answerTimes = (bridge.db
        .prepare("SELECT timestamp FROM messages WHERE id > ? AND conversation_id = ? AND from_session = 'b'")
        .pluck()
        .all(mark, conv.id) as string[]).map((t) => (parseBridgeTimestamp(t) ?? 0) / 1000);
      const inWindow = (ms: number | undefined) => ms !== undefined && ms >= windowStart && ms < windowEnd;
      const answeredInWindow = answerTimes.filter(inWindow).length;
      const windowSec = (windowEnd - windowStart) / 1000;

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
        perConsumer,
        queue: {
          samples: samples.length,
          minWaiting: Math.min(...samples.map((s) => s.waiting)),
          maxWaiting: Math.max(...samples.map((s) => s.waiting)),
          minActive: Math.min(...samples.map((s) => s.active)),
          maxActive: Math.max(...samples.map((s) => s.active)),
        },
        cpu: usage,
        asked,
        drainSec,
        jobs: { completed: completed.length, failed, startedMoreThanOnce: completed.filter((j) => (j.attemptsStarted ?? 0) > 1).length, withoutProcessedBy },
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
      asking = false;
      await topUp.catch(() => undefined);
    }
  } finally {
    await stack.close();
  }
}

// ---------------------------------------------------------------- report

/** Every question answered exactly once, each job run once, nothing failed. */
function allOnce(p: ScalePhase): boolean {
  const c = p.check;
  return c.responseRows === p.asked && c.distinctQueryIds === p.asked && c.answeredTwice === 0 && c.unreadForB === 0
    && (c.ledger.answered ?? 0) === p.asked && p.jobs.completed === p.asked && p.jobs.failed === 0 && p.jobs.startedMoreThanOnce === 0;
}

/** CPU of the producer, the consumers and redis-server over the window, percent of one core. */
function ours(p: ScalePhase): string {
  const mine = Object.entries(p.cpu).filter(([who, use]) => who !== 'machine' && who !== 'bench' && use);
  return mine.length ? `${mine.reduce((s, [, use]) => s + use!.percentOfOneCore, 0)}%` : '-';
}

export function formatScale(result: ScaleResult): string {
  if (result.phases.length === 0) return '(no results)';
  const rows: string[][] = [[
    'consumers', 'sessions', 'throughput q/s', 'ideal q/s', 'of ideal', 'efficiency', 'answered per consumer (window)', 'min waiting', 'cpu ours / machine', 'answered once',
  ]];
  for (const [i, p] of result.phases.entries()) {
    rows.push([
      String(p.consumers),
      String(p.sessionsTotal),
      p.questionsPerSec.toFixed(2),
      String(p.idealQps),
      `${Math.round((p.questionsPerSec / p.idealQps) * 100)}%`,
      result.efficiency[i]?.efficiency.toFixed(2) ?? '-',
      Object.entries(p.perConsumer).map(([name, c]) => `${name} ${c.window}`).join(', '),
      String(p.queue.minWaiting),
      `${ours(p)} / ${p.cpu.machine ? `${p.cpu.machine.percentOfOneCore}%` : '-'}`,
      `${p.check.responseRows}/${p.asked}${allOnce(p) ? '' : ' (NOT ONCE)'}`,
    ]);
  }
  const c = result.config;
  const t = result.targets;
  const meets = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const largest = result.efficiency.reduce((a, b) => (b.consumers > a.consumers ? b : a));
  const smallest = result.phases.reduce((a, b) => (b.consumers < a.consumers ? b : a));
  const notes = [
    `window ${c.windowSec} s per phase after a ${c.warmupSec} s warm-up; stub answerer ${c.stubLatencyMs} ms, ${c.sessionsPerConsumer} sessions per consumer; ideal = sessions x ${round(1000 / c.stubLatencyMs, 2)}/s;`,
    `efficiency = throughput / (consumers x ${round(smallest.questionsPerSec / smallest.consumers, 2)} q/s, one consumer's throughput); min waiting: fewest questions waiting in Redis in the window (0 = ran dry);`,
    `cpu: in the window, percent of one core (of ${availableParallelism() * 100}%); ours = producer + consumers + redis-server, machine = every process on it.`,
  ];
  const verdicts = [
    `efficiency at ${largest.consumers} consumers: ${meets(largest.efficiency >= t.efficiency)} (${largest.efficiency} vs >= ${t.efficiency})`,
    `every question answered exactly once: ${meets(result.phases.every(allOnce))} (${result.phases.map((p) => `${p.check.responseRows} rows, ${p.check.distinctQueryIds} distinct of ${p.asked} asked`).join('; ')})`,
    `queue never ran dry in a window: ${meets(result.phases.every((p) => p.queue.minWaiting > 0))}`,
  ];
  const warnings = result.phases
    .filter((p) => p.logLines.warnings + p.logLines.errors > 0)
    .map((p) => `${p.consumers} consumer(s): log lines at warn/error ${p.logLines.warnings}/${p.logLines.errors}; first: ${p.logLines.first.join(' | ')}`);
  return [table(rows), '', ...notes.map((n) => `  ${n}`), ...verdicts.map((v) => `  ${v}`), ...warnings.map((w) => `  note: ${w}`)].join('\n');
}
