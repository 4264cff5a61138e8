/**
 * The pipeline benchmark: real producer and consumer processes of the built CLI, a private
 * redis-server, a bridge file written the way the Python bridge writes it, and the stub answerer.
 *
 * Per scenario (an empty bridge, then one with a million old messages):
 *   - pickup latency: questions sent one at a time with a small gap; bridge commit -> job active
 *     (BullMQ's processedOn), plus the steps around it;
 *   - throughput: N questions inserted as fast as the bench can, first insert -> N-th answer row.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BridgeFixture, tempDir, type Conversation } from '../test/support/bridge.js';
import { RedisServer } from '../test/support/redisServer.js';
import { QUESTIONS_QUEUE, questionJobId } from '../src/shared/queues.js';
import { parseBridgeTimestamp } from '../src/shared/timestamp.js';
import { seedOldMessages } from './oldMessages.js';
import { cleanup, CpuMeter, distribution, nowMs, round, Service, table, waitFor, WaitTimeout, type Distribution } from './support.js';

export const TARGETS = {
  throughputQps: 2000,
  pickupP50Ms: 20,
  /** With old messages, at most this factor worse than on an empty bridge. */
  oldMessagesFactor: 2,
};

export interface PipelineConfig {
  /** Questions in the throughput run. */
  throughputN: number;
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
  /** Bridge commit -> job active (processedOn): the pickup latency. */
  pickupMs: Distribution | null;
  /** Bridge commit -> job added to Redis (job.timestamp, the producer's clock). */
  insertToEnqueuedMs: Distribution | null;
  /** Job added -> job active. */
  enqueuedToActiveMs: Distribution | null;
  /** Bridge commit -> answer row committed (its timestamp). */
  insertToAnswerMs: Distribution | null;
  missingJobs: number;
}

export interface ThroughputResult {
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
  /** CPU over the run, per process; percent of one core (the machine has os.availableParallelism()). */
  cpu: Record<string, { cpuSec: number; percentOfOneCore: number } | null>;
}

export interface ScenarioResult {
  scenario: string;
  oldMessages: number;
  seed: { seconds: number; fileMB: number } | null;
  /** Producer spawn -> its first heartbeat row (startup includes creating autopoll's index on `messages`). */
  producerReadySec: number;
  latency: LatencyResult;
  throughput: ThroughputResult;
  check: { asked: number; responseRows: number; distinctQueryIds: number; unreadForB: number; ledger: Record<string, number> };
  logLines: { producerWarnings: number; producerErrors: number; consumerWarnings: number; consumerErrors: number };
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
  const undo: Array<() => Promise<void>> = [];
  try {
    const redis = await RedisServer.start();
    undo.push(cleanup.add('stop redis-server', () => redis.stop()));
    const dir = tempDir('autopoll-bench-');
    undo.push(cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true })));
    const bridge = BridgeFixture.create(join(dir, 'bridge.db'));
    undo.push(cleanup.add('close the bench bridge connection', () => bridge.close()));
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    undo.push(cleanup.add('close the bench Redis connection', async () => void (await client.quit().catch(() => client.disconnect()))));
    const prefix = `{bench-${scenario}}`;
    const questions = new Queue(QUESTIONS_QUEUE, { connection: client, prefix });
    undo.push(cleanup.add('close the bench queue', () => questions.close()));

    const conv = bridge.createConversation();
    let seed: ScenarioResult['seed'] = null;
    if (oldMessages > 0) {
      log(`[${scenario}] inserting ${oldMessages.toLocaleString('en-US')} old messages`);
      seed = seedOldMessages(bridge, oldMessages);
      seed.seconds = round(seed.seconds, 1);
      log(`[${scenario}]   done in ${seed.seconds} s, bridge file ${seed.fileMB} MB`);
    }

    const common = ['--redis', redis.url, '--prefix', prefix, '--log-level', 'warn', '--shutdown-timeout', '5'];
    const prof = (who: string) => (config.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfDir}`, `--cpu-prof-name=${scenario}-${who}.cpuprofile`] : []);

    log(`[${scenario}] starting producer and consumer (stub answerer, --sessions ${config.sessions})`);
    const spawnedAt = nowMs();
    const producer = Service.start({
      name: `producer (${scenario})`,
      args: ['producer', ...common, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`],
      nodeArgs: prof('producer'),
    });
    undo.push(() => producer.stop());
    const heartbeat = bridge.db.prepare<[string], { ok: number }>("SELECT 1 AS ok FROM session_status WHERE conversation_id = ? AND session_id = 'b'");
    await waitFor('the producer to write its heartbeat', () => heartbeat.get(conv.id) !== undefined, { timeoutMs: 120_000, everyMs: 10, guard: [producer] });
    const producerReadySec = round((nowMs() - spawnedAt) / 1000, 2);
    log(`[${scenario}]   producer ready after ${producerReadySec} s`);

    const consumer = Service.start({
      name: `consumer (${scenario})`,
      args: ['consumer', ...common, '--answerer', 'stub', '--sessions', String(config.sessions)],
      nodeArgs: prof('consumer'),
    });
    undo.push(() => consumer.stop());
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
      insertMany(bridge, conv, 'warm', config.warmupN, config.insertBatch);
      asked += config.warmupN;
      await answers.waitFor(warm, config.warmupN, 60_000);
    }

    log(`[${scenario}] pickup latency: ${config.latencyN} questions, one every ~${config.latencyGapMs} ms`);
    const latency = await measureLatency(bridge, conv, questions, answers, config);
    asked += config.latencyN;
    log(`[${scenario}]   pickup p50 ${latency.pickupMs?.p50} ms, p99 ${latency.pickupMs?.p99} ms`);

    log(`[${scenario}] throughput: ${config.throughputN.toLocaleString('en-US')} questions, inserted in transactions of ${config.insertBatch}`);
    const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1] ?? -1);
    const throughput = await measureThroughput(bridge, conv, answers, config, { producer: producer.pid, consumer: consumer.pid, redis: redisPid, bench: process.pid });
    asked += config.throughputN;
    log(`[${scenario}]   ${throughput.answered} answered in ${throughput.totalSec} s: ${throughput.questionsPerSec} q/s${throughput.timedOut ? ' (TIMED OUT)' : ''}`);

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
      check,
      logLines: { producerWarnings: producer.warnings, producerErrors: producer.errors, consumerWarnings: consumer.warnings, consumerErrors: consumer.errors },
    };
  } finally {
    for (const u of undo.reverse()) await u();
  }
}

/** Counts side b's answer rows in the conversation after a mark (a message id). */
class AnswerCounter {
  private readonly since;
  private readonly top;

  constructor(private readonly bridge: BridgeFixture, private readonly conv: Conversation, private readonly guard: Service[]) {
    this.since = bridge.db.prepare<[number, string], { n: number; last: string | null }>(
      "SELECT COUNT(*) AS n, MAX(timestamp) AS last FROM messages WHERE id > ? AND conversation_id = ? AND from_session = 'b'",
    );
    this.top = bridge.db.prepare<[], number | null>('SELECT MAX(id) FROM messages').pluck();
  }

  mark(): number {
    return this.top.get() ?? 0;
  }

  count(after: number): { n: number; last: string | null } {
    return this.since.get(after, this.conv.id)!;
  }

  async waitFor(after: number, n: number, timeoutMs: number): Promise<{ n: number; last: string }> {
    return waitFor(`${n} answers in the bridge`, () => {
      const c = this.count(after);
      return c.n >= n && c.last ? { n: c.n, last: c.last } : undefined;
    }, { timeoutMs, everyMs: 20, guard: this.guard });
  }

  get db() {
    return this.bridge.db;
  }
}

/** Inserts `n` questions as side `a`, `batch` to a transaction, as fast as the bench can. */
function insertMany(bridge: BridgeFixture, conv: Conversation, tag: string, n: number, batch: number): void {
  for (let start = 0; start < n; start += batch) {
    bridge.db.transaction(() => {
      for (let i = start; i < Math.min(n, start + batch); i++) bridge.ask(conv.id, `${tag}_${i}`, `Question ${i} of ${tag}: what changed?`);
    }).immediate();
  }
}

async function measureLatency(bridge: BridgeFixture, conv: Conversation, questions: Queue, answers: AnswerCounter, config: PipelineConfig): Promise<LatencyResult> {
  const mark = answers.mark();
  const sent: Array<{ id: number; queryId: string; at: number }> = [];
  for (let i = 0; i < config.latencyN; i++) {
    const queryId = `lat_${i}`;
    const id = bridge.ask(conv.id, queryId, `Latency question ${i}: where is the cache?`);
    sent.push({ id, queryId, at: nowMs() });
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
    const job = await questions.getJob(questionJobId(s.id));
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
    insertToEnqueuedMs: distribution(enqueued),
    enqueuedToActiveMs: distribution(queued),
    insertToAnswerMs: distribution(answered),
    missingJobs,
  };
}

async function measureThroughput(
  bridge: BridgeFixture, conv: Conversation, answers: AnswerCounter, config: PipelineConfig, pids: Record<string, number>,
): Promise<ThroughputResult> {
  const n = config.throughputN;
  const mark = answers.mark();
  const cpu = new CpuMeter(pids);
  cpu.start();
  const t0 = nowMs();
  insertMany(bridge, conv, 'tp', n, config.insertBatch);
  const insertedAt = nowMs();
  let timedOut = false;
  let done: { n: number; last: string | null };
  try {
    done = await answers.waitFor(mark, n, config.throughputTimeoutMs);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    timedOut = true;
    done = answers.count(mark);
  }
  const usage = cpu.stop();
  const end = done.last ? (parseBridgeTimestamp(done.last) ?? 0) / 1000 : nowMs();
  const lastTaken = bridge.db.prepare<[number], string | null>('SELECT MAX(taken_at) FROM autopoll_ledger WHERE message_id > ?').pluck().get(mark);
  const totalSec = (end - t0) / 1000;
  return {
    n,
    insertBatch: config.insertBatch,
    answered: done.n,
    timedOut,
    insertSec: round((insertedAt - t0) / 1000, 2),
    lastTakenSec: lastTaken ? round(((parseBridgeTimestamp(lastTaken) ?? 0) / 1000 - t0) / 1000, 2) : null,
    totalSec: round(totalSec, 2),
    questionsPerSec: round(done.n / totalSec, 0),
    cpu: usage,
  };
}

function checkBridge(bridge: BridgeFixture, conv: Conversation, asked: number): ScenarioResult['check'] {
  const rows = bridge.db
    .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT json_extract(message, '$.query_id')) AS d FROM messages WHERE conversation_id = ? AND from_session = 'b'")
    .get(conv.id) as { n: number; d: number };
  const unread = bridge.db.prepare("SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND to_session = 'b' AND read = 0").pluck().get(conv.id) as number;
  const ledger = Object.fromEntries(
    (bridge.db.prepare('SELECT state, COUNT(*) AS n FROM autopoll_ledger WHERE conversation_id = ? GROUP BY state').all(conv.id) as Array<{ state: string; n: number }>).map(
      (r) => [r.state, r.n],
    ),
  );
  return { asked, responseRows: rows.n, distinctQueryIds: rows.d, unreadForB: unread, ledger };
}

// ---------------------------------------------------------------- report

export function formatPipeline(result: PipelineResult): string {
  const [empty, old] = result.scenarios;
  if (!empty) return '(no results)';
  const t = result.targets;
  const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
  const rows: string[][] = [['', 'empty bridge', old ? `${(old.oldMessages / 1e6).toLocaleString('en-US')}M old messages` : '', 'old / empty', 'target']];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${round(a / b, 2)}x` : '-');
  const meets = (ok: boolean) => (ok ? 'met' : 'MISSED');
  rows.push([
    'throughput (q/s)',
    cell(empty.throughput.questionsPerSec),
    old ? cell(old.throughput.questionsPerSec) : '',
    old ? `${ratio(empty.throughput.questionsPerSec, old.throughput.questionsPerSec)} slower` : '',
    `>= ${t.throughputQps}; old within ${t.oldMessagesFactor}x`,
  ]);
  rows.push(['  answered / asked', `${empty.throughput.answered}/${empty.throughput.n}`, old ? `${old.throughput.answered}/${old.throughput.n}` : '', '', '']);
  rows.push(['  inserts done after (s)', cell(empty.throughput.insertSec), old ? cell(old.throughput.insertSec) : '', '', '']);
  rows.push(['  last taken after (s)', cell(empty.throughput.lastTakenSec), old ? cell(old.throughput.lastTakenSec) : '', '', '']);
  rows.push(['  last answer after (s)', cell(empty.throughput.totalSec), old ? cell(old.throughput.totalSec) : '', '', '']);
  for (const who of ['producer', 'consumer', 'redis', 'bench']) {
    const c = (s: ScenarioResult) => s.throughput.cpu[who];
    const fmt = (s: ScenarioResult) => (c(s) ? `${c(s)!.percentOfOneCore}% (${c(s)!.cpuSec} s)` : '-');
    rows.push([`  cpu ${who}`, fmt(empty), old ? fmt(old) : '', '', '']);
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
    verdicts.push(`old vs empty: throughput ${meets(o.throughputSlowdown <= t.oldMessagesFactor)} (${o.throughputSlowdown}x slower), pickup p50 ${meets((o.pickupP50Factor ?? Infinity) <= t.oldMessagesFactor)} (${o.pickupP50Factor}x)`);
  }
  const warnings = result.scenarios
    .filter((s) => s.logLines.producerWarnings + s.logLines.producerErrors + s.logLines.consumerWarnings + s.logLines.consumerErrors > 0)
    .map((s) => `${s.scenario}: log lines at warn/error: producer ${s.logLines.producerWarnings}/${s.logLines.producerErrors}, consumer ${s.logLines.consumerWarnings}/${s.logLines.consumerErrors}`);
  return [table(rows), '', ...verdicts.map((v) => `  ${v}`), ...warnings.map((w) => `  note: ${w}`)].join('\n');
}
