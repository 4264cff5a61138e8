/**
 * The pipeline benchmark: real producer and consumer processes of the built CLI, a private
 * redis-server, a bridge file written the way the Python bridge writes it, and the stub answerer.
 *
 * Per scenario (an empty bridge, then one with a million old messages):
 *   - pickup latency: questions sent one at a time with a small gap; bridge commit -> job active
 *     (BullMQ's processedOn), plus the steps around it;
 *   - throughput: N questions inserted as fast as the bench can, first insert -> N-th answer row.
 */
import type { Queue } from 'bullmq';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BridgeFixture, Conversation } from '../test/support/bridge.js';
import { parseBridgeTimestamp } from '../src/shared/timestamp.js';
import { seedOldMessages } from './oldMessages.js';
import { checkBridge, type BridgeCheck } from '../test/support/exactlyOnce.js';
import { round } from '../test/support/numbers.js';
import { WaitTimeout } from '../test/support/wait.js';
import { AnswerCounter, insertMany, nowMs } from './bridgeTraffic.js';
import { CpuMeter, type CpuUse } from './cpuMeter.js';
import { distribution, table, type Distribution } from './numbers.js';
import { BenchStack } from './stack.js';

export const TARGETS = {
  throughputQps: 2000,
  pickupP50Ms: 20,
  /** With old messages, at most this factor worse than on an empty bridge. */
  oldMessagesFactor: 2,
};

export interface PipelineConfig {
  /** Questions in a throughput run. */
  throughputN: number;
  /** Throughput runs per scenario; the median one is reported. */
  throughputRepeat: number;
  /** Questions per bench transaction while inserting the throughput run. */
  insertBatch: number;
  /** Questions in the latency run, sent one at a time. */
  latencyN: number;
  latencyGapMs: number;
  /** Questions answered before measuring, so both processes run warm code. */
  warmupN: number;
  /** Old messages in the second scenario. */
  oldMessages: number;
  /** Consumer --sessions. */
  sessions: number;
  throughputTimeoutMs: number;
  /** When set, children run with --cpu-prof into this folder. */
  cpuProfDir?: string | undefined;
}

export interface LatencyResult {
  n: number;
  gapMs: number;
  /**
   * Bridge commit -> job active (processedOn): the pickup latency. The commit time is read right
   * after the bench's insert returns; when the OS runs the producer first and the bench a few ms
   * later (2 busy cores), a sample comes out too small, even negative (see negativeSamples).
   */
  pickupMs: Distribution | null;
  /** Every pickup sample (ms, 0.01 ms resolution), in the order the questions were sent: the report's distribution chart. */
  pickupSamplesMs: number[];
  negativeSamples: number;
  /** How long the bench's insert took (BEGIN IMMEDIATE .. COMMIT with the bridge's fsync). */
  insertCallMs: Distribution | null;
  /** Bridge commit -> job added to Redis (job.timestamp, the producer's clock). */
  insertToEnqueuedMs: Distribution | null;
  /** Job added -> job active. */
  enqueuedToActiveMs: Distribution | null;
  /** Bridge commit -> answer row committed (its timestamp). */
  insertToAnswerMs: Distribution | null;
  missingJobs: number;
}

export interface ThroughputResult {
  run: number;
  n: number;
  insertBatch: number;
  answered: number;
  timedOut: boolean;
  /** First insert -> last insert committed (the bench's own pace). */
  insertSec: number;
  /** First insert -> last question taken into the ledger. */
  lastTakenSec: number | null;
  /** First insert -> last answer row. */
  totalSec: number;
  questionsPerSec: number;
  /** CPU over the run, per process and for the whole machine; percent of one core (see machine.cpus). */
  cpu: CpuUse;
  /** Largest backlog seen in each queue (waiting + delayed), sampled every 250 ms. */
  peakBacklog: { questions: number; answers: number };
  /** The samples: seconds since the first insert, jobs waiting and active per queue, answers in the bridge. */
  timeline: Array<{ t: number; qWait: number; qActive: number; aWait: number; aActive: number; answered: number }>;
}

export interface ScenarioResult {
  scenario: string;
  oldMessages: number;
  seed: { seconds: number; fileMB: number } | null;
  /** Producer spawn -> its first heartbeat row (startup includes creating autopoll's index on `messages`). */
  producerReadySec: number;
  latency: LatencyResult;
  /** The median run by q/s (all runs in throughputRuns). */
  throughput: ThroughputResult;
  throughputRuns: ThroughputResult[];
  /** Redis commandstats over the throughput runs (commands run by scripts included), the costliest first. */
  redisCommands: Array<{ command: string; calls: number; perQuestion: number; usecPerCall: number; usecPerQuestion: number }>;
  check: BridgeCheck;
  logLines: { producerWarnings: number; producerErrors: number; consumerWarnings: number; consumerErrors: number; first: string[] };
}

export interface PipelineResult {
  benchmark: 'pipeline';
  targets: typeof TARGETS;
  config: PipelineConfig;
  scenarios: ScenarioResult[];
  /** Old-messages scenario relative to the empty one; > 1 means worse. */
  oldVsEmpty: { throughputSlowdown: number; pickupP50Factor: number | null; pickupP99Factor: number | null } | null;
}

export async function runPipelineBench(config: PipelineConfig, log: (line: string) => void): Promise<PipelineResult> {
  const scenarios: ScenarioResult[] = [];
  scenarios.push(await runScenario('empty', 0, config, log));
  if (config.oldMessages > 0) scenarios.push(await runScenario('old', config.oldMessages, config, log));
  const [empty, old] = scenarios;
  const factor = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b, 2) : null);
  return {
    benchmark: 'pipeline',
    targets: TARGETS,
    config,
    scenarios,
    oldVsEmpty: old && empty
      ? {
          throughputSlowdown: factor(empty.throughput.questionsPerSec, old.throughput.questionsPerSec) ?? 0,
          pickupP50Factor: factor(old.latency.pickupMs?.p50, empty.latency.pickupMs?.p50),
          pickupP99Factor: factor(old.latency.pickupMs?.p99, empty.latency.pickupMs?.p99),
        }
      : null,
  };
}

async function runScenario(scenario: string, oldMessages: number, config: PipelineConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const stack = await BenchStack.start(scenario);
  try {
    const { bridge, client, questions, answers: answerQueue } = stack;
    const conv = bridge.createConversation();
    let seed: ScenarioResult['seed'] = null;
    if (oldMessages > 0) {
      log(`[${scenario}] inserting ${oldMessages.toLocaleString('en-US')} old messages`);
      seed = await seedOldMessages(bridge, oldMessages);
      seed.seconds = round(seed.seconds, 1);
      log(`[${scenario}]   done in ${seed.seconds} s, bridge file ${seed.fileMB} MB`);
    }

    const prof = (who: string) => (config.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfDir}`, `--cpu-prof-name=${scenario}-${who}.cpuprofile`] : []);

    log(`[${scenario}] starting producer and consumer (stub answerer, --sessions ${config.sessions})`);
    const { producer, readySec: producerReadySec } = await stack.startProducer(conv, { name: `producer (${scenario})`, nodeArgs: prof('producer') });
    log(`[${scenario}]   producer ready after ${producerReadySec} s`);

    const consumer = stack.service({
      name: `consumer (${scenario})`,
      args: ['consumer', ...stack.commonArgs(), '--answerer', 'stub', '--sessions', String(config.sessions)],
      nodeArgs: prof('consumer'),
    });
    const guard = [producer, consumer];
    const answers = new AnswerCounter(bridge, conv, guard);

    // One round trip proves the whole pipeline is up; then a warm-up batch for the JIT.
    let asked = 0;
    const roundTrip = answers.mark();
    bridge.ask(conv.id, 'ping_0', 'Is the pipeline up?');
    asked++;
    await answers.waitFor(roundTrip, 1, 60_000);
    if (config.warmupN > 0) {
      const warm = answers.mark();
      await insertMany(bridge, conv, 'warm', config.warmupN, config.insertBatch);
      asked += config.warmupN;
      await answers.waitFor(warm, config.warmupN, 60_000);
    }

    log(`[${scenario}] pickup latency: ${config.latencyN} questions, one every ~${config.latencyGapMs} ms`);
    const latency = await measureLatency(bridge, conv, questions, answers, config);
    asked += config.latencyN;
    log(`[${scenario}]   pickup p50 ${latency.pickupMs?.p50} ms, p99 ${latency.pickupMs?.p99} ms`);

    log(`[${scenario}] throughput: ${config.throughputN.toLocaleString('en-US')} questions, inserted in transactions of ${config.insertBatch}, ${config.throughputRepeat} runs`);
    const pids = { producer: producer.pid, consumer: consumer.pid, redis: stack.redisPid, bench: process.pid };
    const throughputRuns: ThroughputResult[] = [];
    await client.config('RESETSTAT');
    for (let run = 1; run <= config.throughputRepeat; run++) {
      const r = await measureThroughput(run, bridge, conv, answers, config, { questions, answers: answerQueue }, pids);
      throughputRuns.push(r);
      asked += config.throughputN;
      log(`[${scenario}]   run ${run}: ${r.answered} answered in ${r.totalSec} s: ${r.questionsPerSec} q/s${r.timedOut ? ' (TIMED OUT)' : ''}`);
      // A run that timed out leaves work in flight, and slow runs would blow the time budget.
      if (r.timedOut || r.totalSec > 30) break;
    }
    const redisCommands = topCommands(await client.info('commandstats'), throughputRuns.reduce((s, r) => s + r.answered, 0));
    const byRate = [...throughputRuns].sort((a, b) => a.questionsPerSec - b.questionsPerSec);
    const throughput = byRate[Math.floor((byRate.length - 1) / 2)]!;

    // Anything left in flight (after a timeout) gets a moment, then the bridge is checked.
    if (throughput.timedOut) await sleep(1000);
    const check = checkBridge(bridge, conv, asked);
    await consumer.stop();
    await producer.stop();
    return {
      scenario,
      oldMessages,
      seed,
      producerReadySec,
      latency,
      throughput,
      throughputRuns,
      redisCommands,
      check,
      logLines: {
        producerWarnings: producer.warnings, producerErrors: producer.errors, consumerWarnings: consumer.warnings, consumerErrors: consumer.errors,
        first: [...producer.notable.map((m) => `producer ${m}`), ...consumer.notable.map((m) => `consumer ${m}`)],
      },
    };
  } finally {
    await stack.close();
  }
}

async function measureLatency(bridge: BridgeFixture, conv: Conversation, questions: Queue, answers: AnswerCounter, config: PipelineConfig): Promise<LatencyResult> {
  const mark = answers.mark();
  const sent: Array<{ id: number; queryId: string; at: number; callMs: number }> = [];
  for (let i = 0; i < config.latencyN; i++) {
    const queryId = `lat_${i}`;
    const before = nowMs();
    const id = bridge.ask(conv.id, queryId, `Latency question ${i}: where is the cache?`);
    const at = nowMs();
    sent.push({ id, queryId, at, callMs: at - before });
    await sleep(config.latencyGapMs);
  }
  await answers.waitFor(mark, config.latencyN, 60_000);

  // Read the jobs now: the producer keeps only the last 10,000 completed ones.
  const answerAt = new Map(
    (answers.db
      .prepare("SELECT json_extract(message, '$.query_id') AS q, timestamp FROM messages WHERE id > ? AND conversation_id = ? AND from_session = 'b'")
      .all(mark, conv.id) as Array<{ q: string; timestamp: string }>).map((r) => [r.q, (parseBridgeTimestamp(r.timestamp) ?? 0) / 1000]),
  );
  const pickup: number[] = [];
  const enqueued: number[] = [];
  const queued: number[] = [];
  const answered: number[] = [];
  let missingJobs = 0;
  for (const s of sent) {
    const job = await questions.getJob(bridge.jobId(s.id));
    if (!job || !job.processedOn) {
      missingJobs++;
      continue;
    }
    pickup.push(job.processedOn - s.at);
    enqueued.push(job.timestamp - s.at);
    queued.push(job.processedOn - job.timestamp);
    const a = answerAt.get(s.queryId);
    if (a) answered.push(a - s.at);
  }
  return {
    n: config.latencyN,
    gapMs: config.latencyGapMs,
    pickupMs: distribution(pickup),
    pickupSamplesMs: pickup.map((v) => round(v, 2)),
    negativeSamples: pickup.filter((v) => v < 0).length,
    insertCallMs: distribution(sent.map((s) => s.callMs)),
    insertToEnqueuedMs: distribution(enqueued),
    enqueuedToActiveMs: distribution(queued),
    insertToAnswerMs: distribution(answered),
    missingJobs,
  };
}

async function measureThroughput(
  run: number, bridge: BridgeFixture, conv: Conversation, answers: AnswerCounter, config: PipelineConfig,
  queues: { questions: Queue; answers: Queue }, pids: Record<string, number>,
): Promise<ThroughputResult> {
  const n = config.throughputN;
  const mark = answers.mark();
  const cpu = new CpuMeter(pids);
  const timeline: ThroughputResult['timeline'] = [];
  let t0 = 0;
  let sampling: Promise<void> | undefined;
  const sample = async () => {
    const t = round((nowMs() - t0) / 1000, 2);
    const [q, a] = await Promise.all([
      queues.questions.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
      queues.answers.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
    ]);
    const waiting = (c: Record<string, number>) => (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
    timeline.push({ t, qWait: waiting(q), qActive: q.active ?? 0, aWait: waiting(a), aActive: a.active ?? 0, answered: answers.count(mark).n });
  };
  const sampler = setInterval(() => {
    if (!sampling) sampling = sample().catch(() => undefined).finally(() => (sampling = undefined));
  }, 250);
  cpu.start();
  t0 = nowMs();
  await insertMany(bridge, conv, `tp${run}`, n, config.insertBatch);
  const insertedAt = nowMs();
  let timedOut = false;
  let done: { n: number; last: string | null };
  try {
    done = await answers.waitFor(mark, n, config.throughputTimeoutMs);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    timedOut = true;
    done = answers.count(mark);
  } finally {
    clearInterval(sampler);
    await sampling;
  }
  const usage = cpu.stop();
  const end = done.last ? (parseBridgeTimestamp(done.last) ?? 0) / 1000 : nowMs();
  const lastTaken = bridge.db.prepare<[number], string | null>('SELECT MAX(taken_at) FROM autopoll_ledger WHERE message_id > ?').pluck().get(mark);
  const totalSec = (end - t0) / 1000;
  return {
    run,
    n,
    insertBatch: config.insertBatch,
    answered: done.n,
    timedOut,
    insertSec: round((insertedAt - t0) / 1000, 2),
    lastTakenSec: lastTaken ? round(((parseBridgeTimestamp(lastTaken) ?? 0) / 1000 - t0) / 1000, 2) : null,
    totalSec: round(totalSec, 2),
    questionsPerSec: round(done.n / totalSec, 0),
    cpu: usage,
    peakBacklog: {
      questions: Math.max(0, ...timeline.map((s) => s.qWait)),
      answers: Math.max(0, ...timeline.map((s) => s.aWait)),
    },
    timeline,
  };
}

/**
 * Parses INFO commandstats; per-question figures divide by the questions answered meanwhile.
 * Since Redis 7 the commands a script runs are counted too, so evalsha's time includes theirs.
 */
function topCommands(info: string, questions: number, top = 12): ScenarioResult['redisCommands'] {
  const q = Math.max(1, questions);
  return [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)]
    .map((m) => ({ command: m[1]!, calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) }))
    .sort((a, b) => b.usec - a.usec)
    .slice(0, top)
    .map((r) => ({ command: r.command, calls: r.calls, perQuestion: round(r.calls / q, 2), usecPerCall: r.usecPerCall, usecPerQuestion: round(r.usec / q, 1) }));
}

// ---------------------------------------------------------------- report

export function formatPipeline(result: PipelineResult): string {
  const [empty, old] = result.scenarios;
  if (!empty) return '(no results)';
  const t = result.targets;
  const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
  const rows: string[][] = [['', 'empty bridge', old ? `${(old.oldMessages / 1e6).toLocaleString('en-US')}M old messages` : '', 'old vs empty (>1 worse)', 'target']];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${round(a / b, 2)}x` : '-');
  const meets = (ok: boolean) => (ok ? 'met' : 'MISSED');
  rows.push([
    `throughput (q/s, median of ${empty.throughputRuns.length})`,
    cell(empty.throughput.questionsPerSec),
    old ? cell(old.throughput.questionsPerSec) : '',
    old ? ratio(empty.throughput.questionsPerSec, old.throughput.questionsPerSec) : '',
    `>= ${t.throughputQps}; old within ${t.oldMessagesFactor}x`,
  ]);
  const runs = (s: ScenarioResult) => s.throughputRuns.map((r) => r.questionsPerSec).join(', ');
  rows.push(['  all runs', runs(empty), old ? runs(old) : '', '', '']);
  rows.push(['  (median run) answered / asked', `${empty.throughput.answered}/${empty.throughput.n}`, old ? `${old.throughput.answered}/${old.throughput.n}` : '', '', '']);
  rows.push(['  inserts done after (s)', cell(empty.throughput.insertSec), old ? cell(old.throughput.insertSec) : '', '', '']);
  rows.push(['  last taken after (s)', cell(empty.throughput.lastTakenSec), old ? cell(old.throughput.lastTakenSec) : '', '', '']);
  rows.push(['  last answer after (s)', cell(empty.throughput.totalSec), old ? cell(old.throughput.totalSec) : '', '', '']);
  rows.push([
    '  peak backlog questions/answers',
    `${empty.throughput.peakBacklog.questions} / ${empty.throughput.peakBacklog.answers}`,
    old ? `${old.throughput.peakBacklog.questions} / ${old.throughput.peakBacklog.answers}` : '', '', '',
  ]);
  const perQuestion = (s: ScenarioResult) => {
    const c = s.throughput.cpu;
    const ours = ['producer', 'consumer', 'redis'].reduce((sum, k) => sum + (c[k]?.cpuSec ?? 0), 0);
    return s.throughput.answered ? `${Math.round((ours / s.throughput.answered) * 1e6)} µs` : '-';
  };
  rows.push(['  cpu per question (prod+cons+redis)', perQuestion(empty), old ? perQuestion(old) : '', '', '']);
  for (const who of ['producer', 'consumer', 'redis', 'bench', 'machine']) {
    const c = (s: ScenarioResult) => s.throughput.cpu[who];
    const fmt = (s: ScenarioResult) => (c(s) ? `${c(s)!.percentOfOneCore}% (${c(s)!.cpuSec} s)` : '-');
    rows.push([`  cpu ${who}`, fmt(empty), old ? fmt(old) : '', '', who === 'machine' ? `of ${availableParallelism() * 100}%` : '']);
  }
  rows.push([
    'pickup p50 (ms)', cell(empty.latency.pickupMs?.p50), old ? cell(old.latency.pickupMs?.p50) : '',
    old ? ratio(old.latency.pickupMs?.p50, empty.latency.pickupMs?.p50) : '', `< ${t.pickupP50Ms}; old within ${t.oldMessagesFactor}x`,
  ]);
  rows.push(['pickup p99 (ms)', cell(empty.latency.pickupMs?.p99), old ? cell(old.latency.pickupMs?.p99) : '', old ? ratio(old.latency.pickupMs?.p99, empty.latency.pickupMs?.p99) : '', '']);
  const steps: Array<[string, keyof LatencyResult]> = [
    ['  insert -> enqueued p50/p99', 'insertToEnqueuedMs'],
    ['  enqueued -> active p50/p99', 'enqueuedToActiveMs'],
    ['  insert -> answer row p50/p99', 'insertToAnswerMs'],
    ['  (bench insert call p50/p99)', 'insertCallMs'],
  ];
  for (const [label, key] of steps) {
    const d = (s: ScenarioResult) => s.latency[key] as Distribution | null;
    const fmt = (s: ScenarioResult) => (d(s) ? `${d(s)!.p50} / ${d(s)!.p99}` : '-');
    rows.push([label, fmt(empty), old ? fmt(old) : '', '', '']);
  }
  rows.push(['producer ready after (s)', cell(empty.producerReadySec), old ? cell(old.producerReadySec) : '', '', '']);
  if (old?.seed) rows.push(['old messages inserted in (s)', '', `${old.seed.seconds} (${old.seed.fileMB} MB)`, '', '']);
  rows.push([
    'answers / asked, distinct',
    `${empty.check.responseRows}/${empty.check.asked}, ${empty.check.distinctQueryIds}`,
    old ? `${old.check.responseRows}/${old.check.asked}, ${old.check.distinctQueryIds}` : '', '', 'all, once',
  ]);

  const verdicts: string[] = [];
  for (const s of result.scenarios) {
    verdicts.push(`${s.scenario}: throughput ${meets(s.throughput.questionsPerSec >= t.throughputQps)} (${s.throughput.questionsPerSec} vs >= ${t.throughputQps} q/s)`);
    verdicts.push(`${s.scenario}: pickup p50 ${meets((s.latency.pickupMs?.p50 ?? Infinity) < t.pickupP50Ms)} (${s.latency.pickupMs?.p50} vs < ${t.pickupP50Ms} ms)`);
  }
  if (result.oldVsEmpty) {
    const o = result.oldVsEmpty;
    verdicts.push(`old vs empty: throughput ${meets(o.throughputSlowdown <= t.oldMessagesFactor)} (${o.throughputSlowdown}x the empty bridge's time per question), pickup p50 ${meets((o.pickupP50Factor ?? Infinity) <= t.oldMessagesFactor)} (${o.pickupP50Factor}x)`);
  }
  const warnings = result.scenarios
    .filter((s) => s.logLines.producerWarnings + s.logLines.producerErrors + s.logLines.consumerWarnings + s.logLines.consumerErrors > 0)
    .map((s) => `${s.scenario}: log lines at warn/error: producer ${s.logLines.producerWarnings}/${s.logLines.producerErrors}, consumer ${s.logLines.consumerWarnings}/${s.logLines.consumerErrors}; first: ${s.logLines.first.join(' | ')}`);
  return [table(rows), '', ...verdicts.map((v) => `  ${v}`), ...warnings.map((w) => `  note: ${w}`)].join('\n');
}
