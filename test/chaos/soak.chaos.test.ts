/**
 * Scenario 8, the soak: a long steady run through real processes, watched for growth.
 *
 *   (a) 100,000 questions, `autopoll producer` + `autopoll consumer --answerer stub --sessions 64`,
 *       asked at a steady 1,000 a second;
 *   (b) 5,000 turns through Claude Code: `autopoll consumer --answerer claude --sessions 4`, the
 *       real Claude Code binary the SDK ships, against the fake Anthropic API with no latency, as
 *       fast as the sessions answer. Redis keeps the last 10,000 finished jobs of each queue
 *       (JOB_RETENTION), so a fresh Redis grows by design until it holds them: (b) starts where a
 *       deployment that has run a while stands, with 11,000 questions answered first by a producer
 *       and a stub consumer of their own, which then leave (SIGTERM) for the measured producer and
 *       Claude consumer. A Claude job is a little larger than
 *       the stub job it pushes out (its log line and progress), so Redis still grows a little
 *       during (b), up to the same cap (measured: +7% used memory and RSS, +14% keys, the log
 *       lists). (a) goes 10 times past the cap.
 *
 * Each phase has its own private redis-server and bridge file. The test plays side `a`: it keeps
 * the asking at the phase's rate with at most a fixed number of questions unanswered (topping up
 * in one transaction per batch), so the load is steady. Every ~1 s it samples the producer, the
 * consumer, the consumer's descendants (the Claude Code sessions) and redis-server: RSS, open
 * descriptors, descendants, CPU time (support/resourceSampler.ts).
 *
 * Pass: every question answered exactly once (and in (b) each answer is the fake's answer to that
 * very question, no request carrying two), both processes exit 0 on SIGTERM, no process carrying
 * the run's marker is left, and after warm-up (the first 20% of the questions) nothing grew by more
 * than 10%: the median of the samples taken while the last 20% were answered against the median
 * of those taken while 20-40% were (windows cut by progress, not time; medians, as one sample says
 * little: a session recycle briefly adds a process, a collection drops a heap).
 *
 * What "memory" is judged for the Node processes (producer, consumer): their RSS without V8's
 * garbage and free heap (`heldRssKb` = RSS - committed heap + live heap after the latest full
 * collection, from `node --trace-gc`, which only prints; nothing is forced). Their raw RSS is
 * mostly the committed heap, which V8 sizes from the allocation rate and its GC speed: measured
 * here at a steady 500-1,000 questions a second with a live heap flat at 31-35 MB, it wandered
 * between 80 and 160 MB, and the RSS medians of two windows differed by up to 24% with nothing
 * leaking. Raw RSS is reported beside it. redis-server and Claude Code are judged on their RSS.
 *
 * Per question, for the benchmark report (bench/results/soak.json, with the machine and date):
 *   - CPU ms: utime + stime deltas of the producer, the consumer, Claude Code (live sessions plus
 *     those the consumer reaped) and redis-server, over the whole phase and after warm-up;
 *   - Redis commands: `total_commands_processed` delta (since Redis 7 it counts the commands
 *     BullMQ's Lua scripts run as well as the scripts' calls), the test's own INFO commands
 *     excluded, and the commandstats breakdown;
 *   - SQLite writes: commits, from the `iChange` counter of the WAL-index header (the `-shm` file),
 *     which SQLite increments once per commit that wrote to the WAL, by any connection; the test's
 *     own commits (its insert transactions) are subtracted. Of them, take transactions are counted
 *     exactly by their `get_messages` audit rows (one per take of one conversation); the rest are
 *     answer batches and heartbeats. Plus the rows autopoll wrote (responses, read marks, audit
 *     rows, ledger inserts and updates) and the WAL restarts (each after a full checkpoint).
 */
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem, type as osType } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_RETENTION } from '../../src/shared/queues.js';
import { BridgeFixture, REPO, tempDir, type Conversation } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { CLI } from '../support/cli.js';
import { FakeAnthropic } from '../support/fakeAnthropic.js';
import { testPrefix } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { ProcessMarker } from '../support/leftovers.js';
import {
  addV8Metrics, commandStatsDelta, type GcEvent, type Growth, parseCommandStats, parseGcTraceLine, parseRedisInfo, readWalIndex, ResourceSampler, round, type Sample, u32Delta,
  type WalIndexHeader, windowGrowth,
} from './support/resourceSampler.js';

/** The issue's floors: not to be cut. */
const STUB_QUESTIONS = 100_000;
const CLAUDE_TURNS = 5_000;

/** After warm-up, no metric may grow by more than this. */
const GROWTH_LIMIT = 0.1;
const GROWTH = { warmup: 0.2, window: 0.2, minSamples: 5 };
const SAMPLE_EVERY_MS = 1000;

const RESULTS_FILE = join(REPO, 'bench/results/soak.json');

// ---------------------------------------------------------------- processes

/** A spawned `node --trace-gc dist/cli/main.js ...`: its collections parsed, its other output's tail kept. */
class SoakProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** performance.now() at spawn: V8's trace times count from about here. */
  readonly spawnedAt = performance.now();
  readonly gc: GcEvent[] = [];
  private readonly tail: string[] = [];
  private partial = '';

  constructor(readonly name: string, args: string[], env: Record<string, string | undefined>) {
    this.child = spawn(process.execPath, ['--trace-gc', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.keep(d.trimEnd()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  assertRunning(): void {
    if (!this.running) throw new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}); its last output:\n${this.tail.join('\n')}`);
  }

  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`, reported as such). */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; signal: string | null; killedAfterTimeout: boolean }> {
    if (this.running) this.child.kill('SIGTERM');
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (exit) return { ...exit, killedAfterTimeout: false };
    this.child.kill('SIGKILL');
    return { ...(await this.exited), killedAfterTimeout: true };
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  private onData(data: string): void {
    const lines = (this.partial + data).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const event = parseGcTraceLine(line);
      if (event) this.gc.push(event);
      else if (line) this.keep(line);
    }
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 30) this.tail.shift();
  }
}

// ---------------------------------------------------------------- side a

/** Side `a`: asks in transactions, counts side b's answers incrementally (a rowid cursor). */
class Asker {
  asked = 0;
  answered = 0;
  /** The asker's own write transactions (subtracted from the commit count). */
  commits = 0;
  readonly queryIds: string[] = [];
  readonly messageIds: number[] = [];
  private cursor: number;
  private readonly top;
  private readonly answersIn;

  constructor(private readonly bridge: BridgeFixture, private readonly conv: Conversation, private readonly tag: string) {
    this.top = bridge.db.prepare<[], number | null>('SELECT MAX(id) FROM messages').pluck();
    this.answersIn = bridge.db
      .prepare<[number, number, string], number>("SELECT COUNT(*) FROM messages WHERE id > ? AND id <= ? AND conversation_id = ? AND from_session = 'b'")
      .pluck();
    this.cursor = this.top.get() ?? 0;
  }

  ask(n: number): void {
    this.bridge.db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const queryId = `${this.tag}_${this.asked + i}`;
        this.queryIds.push(queryId);
        this.messageIds.push(this.bridge.ask(this.conv.id, queryId, `Soak question ${this.asked + i}: where is the retry policy defined?`));
      }
    }).immediate();
    this.asked += n;
    this.commits++;
  }

  poll(): number {
    const top = this.top.get() ?? 0;
    if (top > this.cursor) {
      this.answered += this.answersIn.get(this.cursor, top, this.conv.id)!;
      this.cursor = top;
    }
    return this.answered;
  }

  /**
   * Asks `n` questions at `ratePerSec` (Infinity: as fast as they are answered), never more than
   * `outstanding` unanswered, and waits for all the answers.
   */
  async run(n: number, o: { ratePerSec: number; outstanding: number; insertBatch: number; timeLimitSec: number; guard: SoakProcess[]; onTick?: () => void }): Promise<void> {
    const t0 = performance.now();
    let nextTick = 0;
    while (this.poll() < n) {
      for (const p of o.guard) p.assertRunning();
      const elapsed = performance.now() - t0;
      if (elapsed > o.timeLimitSec * 1000) throw new Error(`only ${this.answered} of ${n} questions answered after ${o.timeLimitSec} s`);
      if (elapsed > nextTick) {
        o.onTick?.();
        nextTick = elapsed + 1000;
      }
      const due = Number.isFinite(o.ratePerSec) ? Math.floor((elapsed / 1000) * o.ratePerSec) + 1 : n;
      const room = Math.min(n - this.asked, due - this.asked, o.outstanding - (this.asked - this.answered));
      if (room > 0) this.ask(Math.min(room, o.insertBatch));
      // Yield: the sampler's timer runs in this process too.
      await sleep(room >= o.insertBatch ? 1 : 10);
    }
  }
}

// ---------------------------------------------------------------- checks and figures

interface ExactlyOnce {
  asked: number;
  responseRows: number;
  /** Query ids not answered exactly once (`id:count`), the first 10. */
  notOnce: string[];
  notOnceCount: number;
  errorResponses: number;
  /** Answers that are not the fake's answer to their own question (Claude phase). */
  wrongAnswers: number;
  wrongAnswerSample: string[];
  /** Ledger rows of asked messages not `answered`, or not pointing at a response to their query. */
  ledgerWrong: number;
  ledgerWrongSample: string[];
  unreadForB: number;
}

/** Every asked question answered exactly once, by a response the ledger points at: in SQL and maps, as 100,000 rows are too many for per-row lookups. */
function checkExactlyOnce(bridge: BridgeFixture, conv: Conversation, askers: Asker[], expectedAnswer?: (q: string) => string, answerChecked: (q: string) => boolean = () => true): ExactlyOnce {
  const queryIds = askers.flatMap((a) => a.queryIds);
  const messageIds = askers.flatMap((a) => a.messageIds);
  const rows = bridge.db
    .prepare<[string], { q: string | null; err: number; answer: string | null }>(
      "SELECT json_extract(message, '$.query_id') AS q, json_extract(message, '$.error') IS NOT NULL AS err, json_extract(message, '$.answer') AS answer FROM messages WHERE conversation_id = ? AND from_session = 'b'",
    )
    .all(conv.id);
  const counts = new Map<string, number>();
  let errorResponses = 0;
  const wrong: string[] = [];
  let wrongAnswers = 0;
  for (const r of rows) {
    counts.set(String(r.q), (counts.get(String(r.q)) ?? 0) + 1);
    if (r.err) errorResponses++;
    if (expectedAnswer && answerChecked(String(r.q)) && !(r.answer ?? '').includes(expectedAnswer(String(r.q)))) {
      wrongAnswers++;
      if (wrong.length < 5) wrong.push(`${r.q}: ${(r.answer ?? '').slice(0, 120)}`);
    }
  }
  const notOnce = queryIds.filter((q) => counts.get(q) !== 1).map((q) => `${q}:${counts.get(q) ?? 0}`);
  const ledger = new Map(
    bridge.db
      .prepare<[string], { id: number; state: string; q: string | null; from: string | null; rq: string | null }>(
        `SELECT l.message_id AS id, l.state, l.query_id AS q, m.from_session AS "from", json_extract(m.message, '$.query_id') AS rq
         FROM autopoll_ledger l LEFT JOIN messages m ON m.id = l.response_message_id WHERE l.conversation_id = ?`,
      )
      .all(conv.id)
      .map((r) => [r.id, r]),
  );
  const ledgerWrong: string[] = [];
  messageIds.forEach((id, i) => {
    const r = ledger.get(id);
    if (!r || r.state !== 'answered' || r.from !== 'b' || r.rq !== queryIds[i] || r.q !== queryIds[i]) ledgerWrong.push(`message ${id}: ${r ? `${r.state}, response to ${r.rq}` : 'no ledger row'}`);
  });
  const unreadForB = bridge.db.prepare<[string], number>("SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND to_session = 'b' AND read = 0").pluck().get(conv.id)!;
  return {
    asked: queryIds.length,
    responseRows: rows.length,
    notOnce: notOnce.slice(0, 10),
    notOnceCount: notOnce.length,
    errorResponses,
    wrongAnswers,
    wrongAnswerSample: wrong,
    ledgerWrong: ledgerWrong.length,
    ledgerWrongSample: ledgerWrong.slice(0, 5),
    unreadForB,
  };
}

/** What autopoll wrote to the bridge so far: rows by kind. */
function bridgeWrites(bridge: BridgeFixture): Record<string, number> {
  const one = (sql: string) => bridge.db.prepare<[], number>(sql).pluck().get() ?? 0;
  const audit = Object.fromEntries(
    bridge.db
      .prepare<[], { action: string; n: number }>("SELECT action, COUNT(*) AS n FROM audit_log WHERE session_id = 'b' GROUP BY action")
      .all()
      .map((r) => [`audit_${r.action}`, r.n]),
  );
  return {
    responsesInserted: one("SELECT COUNT(*) FROM messages WHERE from_session = 'b'"),
    questionsMarkedRead: one("SELECT COUNT(*) FROM messages WHERE to_session = 'b' AND read = 1"),
    ledgerInserted: one('SELECT COUNT(*) FROM autopoll_ledger'),
    ledgerFinished: one('SELECT COUNT(*) FROM autopoll_ledger WHERE finished_at IS NOT NULL'),
    audit_send_message: 0,
    audit_get_messages: 0,
    ...audit,
  };
}

/** INFO stats + commandstats in one command. */
async function redisCounters(client: Redis): Promise<{ total: number; stats: ReturnType<typeof parseCommandStats> }> {
  const text = String(await client.call('INFO', 'stats', 'commandstats'));
  return { total: Number(parseRedisInfo(text).total_commands_processed), stats: parseCommandStats(text) };
}

/** CPU seconds of each part between two samples. */
function cpuBetween(a: Sample, b: Sample, claude: boolean): Record<string, number> {
  const d = (k: string) => (b.values[k] ?? 0) - (a.values[k] ?? 0);
  const out: Record<string, number> = { producer: d('producer.cpuSec'), consumer: d('consumer.cpuSec'), redis: d('redis.cpuSec') };
  if (claude) out.claudeCode = d('consumer.descCpuSec');
  out.total = Object.values(out).reduce((s, v) => s + v, 0);
  return out;
}

function msPer(cpu: Record<string, number>, questions: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v * 1000) / Math.max(1, questions), 3)]));
}

function growthRow(g: Growth, judged: boolean): Record<string, unknown> {
  return {
    metric: g.metric,
    judged,
    first: g.first.median,
    last: g.last.median,
    growthPercent: g.growth === null ? null : Number.isFinite(g.growth) ? round(g.growth * 100, 1) : 'infinite',
    samples: [g.first.samples, g.last.samples],
  };
}

// ---------------------------------------------------------------- a phase

interface PhaseConfig {
  name: 'stub' | 'claude';
  questions: number;
  /** Questions asked a second; Infinity: as fast as they are answered. */
  ratePerSec: number;
  /** Most questions unanswered at once. */
  outstanding: number;
  /** Most questions the asker inserts in one transaction. */
  insertBatch: number;
  consumerArgs: string[];
  consumerEnv: Record<string, string | undefined>;
  /** Questions a stub consumer answers before the phase's consumer starts (not measured). */
  prefill: number;
  /** The phase fails when its questions are not all answered in this time. */
  timeLimitSec: number;
  /** Checked against each of the phase's answers: the fake API answers each question by its query id. */
  expectedAnswer?: (queryId: string) => string;
  /** Called about once a second while the phase runs (the fake API trims its request log). */
  onTick?: () => void;
}

interface PhaseOutcome {
  result: Record<string, unknown>;
  judged: Growth[];
  check: ExactlyOnce;
  exits: Record<string, { code: number | null; signal: string | null; killedAfterTimeout: boolean }>;
  leftovers: Array<{ pid: number; command: string }>;
}

async function runPhase(c: PhaseConfig, marker: ProcessMarker, api?: { requests: () => number; several: () => number }): Promise<PhaseOutcome> {
  const dir = tempDir('autopoll-soak-');
  const procs: SoakProcess[] = [];
  const redis = await RedisServer.start();
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let bridge: BridgeFixture | undefined;
  let stopped = false;
  let polling = false;
  try {
    const server = parseRedisInfo(String(await client.info('server')));
    const redisPid = Number(server.process_id);
    bridge = BridgeFixture.create(join(dir, 'bridge.db'));
    const conv = bridge.createConversation();
    const common = ['--redis', redis.url, '--prefix', testPrefix(), '--log-level', 'warn'];
    const env = { LOG_LEVEL: 'warn', ...marker.env };
    const start = (name: string, args: string[], extraEnv: Record<string, string | undefined> = {}) => {
      const p = new SoakProcess(name, args, { ...env, ...extraEnv });
      procs.push(p);
      return p;
    };
    const producerArgs = ['producer', ...common, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`];
    const exits: PhaseOutcome['exits'] = {};
    const askers: Asker[] = [];

    let prefillSec: number | null = null;
    if (c.prefill > 0) {
      // Its own producer too: the burst leaves a producer's heap large, and V8 gives it back over
      // minutes, which would pass for growth in the measured producer's windows.
      const t = performance.now();
      const prefillProducer = start('prefill producer', producerArgs);
      const stub = start('stub consumer', ['consumer', ...common, '--answerer', 'stub', '--sessions', '64']);
      const prefill = new Asker(bridge, conv, `${c.name}_prefill`);
      askers.push(prefill);
      await prefill.run(c.prefill, { ratePerSec: Infinity, outstanding: 2000, insertBatch: 500, timeLimitSec: 300, guard: [prefillProducer, stub] });
      exits.prefillConsumer = await stub.stop();
      exits.prefillProducer = await prefillProducer.stop();
      prefillSec = round((performance.now() - t) / 1000, 1);
    }

    const spawnedAt = performance.now();
    const producer = start('producer', producerArgs);
    const consumer = start('consumer', ['consumer', ...common, ...c.consumerArgs], c.consumerEnv);
    // One round trip proves the pipeline up (the consumer takes jobs only once its sessions are warm).
    const ping = new Asker(bridge, conv, `${c.name}_ping`);
    askers.push(ping);
    await ping.run(1, { ratePerSec: Infinity, outstanding: 1, insertBatch: 1, timeLimitSec: 120, guard: [producer, consumer] });
    const pipelineReadySec = round((performance.now() - spawnedAt) / 1000, 2);

    const asker = new Asker(bridge, conv, c.name);
    askers.push(asker);
    const n = c.questions;
    // Redis's own view of its memory, polled beside the sampler (INFO memory keyspace, one command a second).
    let redisMemory: Record<string, number> = {};
    let memoryPolls = 0;
    polling = true;
    const pollMemory = (async () => {
      while (polling) {
        memoryPolls++;
        const info = parseRedisInfo(String(await client.call('INFO', 'memory', 'keyspace').catch(() => '')));
        redisMemory = { 'redis.usedMemoryKb': round(Number(info.used_memory) / 1024, 0), 'redis.keys': Number(/keys=(\d+)/.exec(info.db0 ?? '')?.[1] ?? 0) };
        await sleep(SAMPLE_EVERY_MS);
      }
    })();
    const sampler = new ResourceSampler({ producer: producer.child.pid!, consumer: consumer.child.pid!, redis: redisPid }, () => asker.answered / n, SAMPLE_EVERY_MS, () => redisMemory);
    const writesBefore = bridgeWrites(bridge);
    const walBefore = readWalIndex(bridge.path);
    const pollsBefore = memoryPolls;
    const redisBefore = await redisCounters(client);
    const loadBefore = loadavg();
    const testCpuBefore = process.cpuUsage();
    const t0 = performance.now();
    sampler.start();
    try {
      await asker.run(n, { ratePerSec: c.ratePerSec, outstanding: c.outstanding, insertBatch: c.insertBatch, timeLimitSec: c.timeLimitSec, guard: [producer, consumer], onTick: c.onTick });
    } finally {
      sampler.stop();
    }
    const end = sampler.sampleNow();
    const durationSec = (performance.now() - t0) / 1000;
    const testCpu = process.cpuUsage(testCpuBefore);
    const pollsAfter = memoryPolls;
    const redisAfter = await redisCounters(client);
    polling = false;
    await pollMemory;
    const walAfter = readWalIndex(bridge.path);
    const writesAfter = bridgeWrites(bridge);
    const loadAfter = loadavg();

    // A late duplicate would show up now.
    await sleep(1000);
    const phaseIds = new Set(asker.queryIds);
    const check = checkExactlyOnce(bridge, conv, askers, c.expectedAnswer, (q) => phaseIds.has(q));

    // Leave as a service is left: SIGTERM, in-flight work finished, sessions closed. The
    // processes' last GC lines arrive as they exit.
    exits.consumer = await consumer.stop();
    exits.producer = await producer.stop();
    await client.quit().catch(() => undefined);
    await redis.stop();
    stopped = true;
    const leftovers = marker.alive();

    const samples = sampler.samples;
    for (const [name, p] of [['producer', producer], ['consumer', consumer]] as const) addV8Metrics(samples, name, p.gc, (p.spawnedAt - sampler.t0) / 1000);
    const claude = c.name === 'claude';
    const judgedMetrics = [
      'producer.heldRssKb', 'producer.fds', 'producer.children',
      'consumer.heldRssKb', 'consumer.fds', 'consumer.children',
      'redis.rssKb', 'redis.fds', 'redis.children',
      ...(claude ? ['consumer.descRssKb', 'consumer.descFds'] : []),
    ];
    const shownMetrics = [
      'producer.rssKb', 'producer.heapCommittedKb', 'producer.liveHeapKb', 'consumer.rssKb', 'consumer.heapCommittedKb', 'consumer.liveHeapKb', 'redis.usedMemoryKb', 'redis.keys',
    ];
    const judged = judgedMetrics.map((m) => windowGrowth(samples, m, GROWTH));
    const shown = shownMetrics.map((m) => windowGrowth(samples, m, GROWTH));

    const start0 = samples[0]!;
    const warm = samples.find((s) => s.progress >= GROWTH.warmup) ?? start0;
    const cpuAll = cpuBetween(start0, end, claude);
    const cpuSteady = cpuBetween(warm, end, claude);
    const steadyQuestions = Math.round((end.progress - warm.progress) * n);

    // The test's own commands, all INFO: the baseline one (counted once it has run; the final one
    // is not yet) and the memory polls sent in between (on the same connection, so run in order).
    const testCommands = 1 + (pollsAfter - pollsBefore);
    const commands = u32Delta(redisBefore.total, redisAfter.total) - testCommands;
    const perCommand = commandStatsDelta(redisBefore.stats, redisAfter.stats)
      .map((s) => (s.command === 'info' ? { ...s, calls: s.calls - testCommands } : s))
      .filter((s) => s.calls > 0);
    const scriptCalls = perCommand.filter((s) => s.command === 'evalsha' || s.command === 'eval').reduce((sum, s) => sum + s.calls, 0);

    const rows = Object.fromEntries(Object.keys(writesAfter).map((k) => [k, (writesAfter[k] ?? 0) - (writesBefore[k] ?? 0)]));
    const rowsTotal = Object.values(rows).reduce((s, v) => s + v, 0);
    const commitsAll = walBefore && walAfter ? u32Delta(walBefore.iChange, walAfter.iChange) : null;
    const autopollCommits = commitsAll === null ? null : commitsAll - asker.commits;
    const takeCommits = rows.audit_get_messages ?? 0;

    const result: Record<string, unknown> = {
      phase: c.name,
      date: new Date().toISOString(),
      command: {
        producer: 'autopoll producer --log-level warn (defaults otherwise), node --trace-gc',
        consumer: `autopoll consumer ${c.consumerArgs.join(' ')} --log-level warn, node --trace-gc`,
      },
      questions: n,
      ratePerSec: Number.isFinite(c.ratePerSec) ? c.ratePerSec : 'as fast as answered',
      outstandingAtMost: c.outstanding,
      prefill: c.prefill ? { questions: c.prefill, by: 'a producer and a consumer --answerer stub --sessions 64 of their own, stopped before the phase', seconds: prefillSec } : null,
      pipelineReadySec,
      durationSec: round(durationSec, 1),
      questionsPerSec: round(n / durationSec, 1),
      loadavg: { before: loadBefore.map((v) => round(v, 2)), after: loadAfter.map((v) => round(v, 2)) },
      versions: { redis: server.redis_version, node: process.version },
      cpu: {
        note: "utime+stime deltas from /proc/<pid>/stat; claudeCode = the consumer's descendants, live and reaped",
        msPerQuestion: msPer(cpuAll, n),
        msPerQuestionAfterWarmup: msPer(cpuSteady, steadyQuestions),
        cpuSec: Object.fromEntries(Object.entries(cpuAll).map(([k, v]) => [k, round(v, 2)])),
        testProcessCpuSec: round((testCpu.user + testCpu.system) / 1e6, 2),
        testProcessNote: claude ? 'the test: inserts, counting, sampling, and the fake Anthropic API' : 'the test: inserts, counting, sampling',
      },
      redis: {
        note: "total_commands_processed delta: since Redis 7 also the commands run inside Lua scripts; the test's own INFO commands excluded",
        commands,
        commandsPerQuestion: round(commands / n, 2),
        scriptCallsPerQuestion: round(scriptCalls / n, 2),
        top: perCommand.slice(0, 15).map((s) => ({ command: s.command, calls: s.calls, perQuestion: round(s.calls / n, 3), usecPerQuestion: round(s.usec / n, 2) })),
      },
      sqlite: {
        note:
          "commits = delta of the WAL-index iChange counter (one per commit that wrote, any connection) minus the test's insert transactions; take commits = get_messages audit rows (one per take, one conversation); the rest are answer batches and heartbeats; synchronous=NORMAL, so a commit is a WAL append without fsync",
        commits: autopollCommits,
        commitsPerQuestion: autopollCommits === null ? null : round(autopollCommits / n, 4),
        takeCommits,
        answerAndHeartbeatCommits: autopollCommits === null ? null : autopollCommits - takeCommits,
        questionsPerCommit: autopollCommits ? round(n / autopollCommits, 1) : null,
        testCommits: asker.commits,
        rowsWritten: rows,
        rowsWrittenPerQuestion: round(rowsTotal / n, 3),
        walRestarts: walBefore && walAfter ? u32Delta(walBefore.salt1, walAfter.salt1) : null,
        walIndex: { before: walBefore ?? null, after: walAfter ?? null } satisfies Record<string, WalIndexHeader | null>,
      },
      resources: {
        statistic: `median of the samples taken while ${GROWTH.window * 100}% of the questions were answered, the last window against the first after a warm-up of ${GROWTH.warmup * 100}%; growth = (last - first) / first`,
        limit: GROWTH_LIMIT,
        judgedMemory:
          'producer and consumer: heldRssKb = RSS - V8 committed heap + live heap after the latest full collection (node --trace-gc), as V8 sizes its committed heap from the load; redis-server and Claude Code (descRssKb, the sum over the sessions): RSS',
        sampleEveryMs: SAMPLE_EVERY_MS,
        samples: samples.length,
        fullCollections: { producer: producer.gc.filter((e) => e.full).length, consumer: consumer.gc.filter((e) => e.full).length },
        growth: [...judged.map((g) => growthRow(g, true)), ...shown.map((g) => growthRow(g, false))],
        timeline: samples.map((s) => ({ t: s.t, progress: round(s.progress, 4), ...Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, round(v, 2)])) })),
      },
      check,
      exits,
      leftovers,
      ...(api ? { api: { messageRequests: api.requests(), withSeveralQuestions: api.several() } } : {}),
    };
    return { result, judged, check, exits, leftovers };
  } finally {
    polling = false;
    // Only on a failure is anything still running here: stop it, and whatever it started.
    for (const p of procs) await p.kill();
    if (!stopped) {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    }
    for (const left of marker.alive()) {
      try {
        process.kill(left.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    bridge?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectPhaseHealthy(o: PhaseOutcome): void {
  const clean = { code: 0, signal: null, killedAfterTimeout: false };
  for (const [name, exit] of Object.entries(o.exits)) expect(exit, `${name} on SIGTERM`).toEqual(clean);
  const c = o.check;
  expect({ notOnce: c.notOnce, errorResponses: c.errorResponses, wrongAnswers: c.wrongAnswerSample, ledgerWrong: c.ledgerWrongSample, unreadForB: c.unreadForB }).toEqual({
    notOnce: [], errorResponses: 0, wrongAnswers: [], ledgerWrong: [], unreadForB: 0,
  });
  expect(c.responseRows).toBe(c.asked);
  expect(o.leftovers, 'processes left behind').toEqual([]);
  for (const g of o.judged) {
    expect(g.growth, `${g.metric}: too few samples to judge (${g.first.samples}, ${g.last.samples})`).not.toBeNull();
    expect(g.growth!, `${g.metric} grew from ${g.first.median} to ${g.last.median}`).toBeLessThanOrEqual(GROWTH_LIMIT);
  }
}

describe('soak', () => {
  const marker = new ProcessMarker();
  const phases: Record<string, Record<string, unknown>> = {};

  beforeAll(() => {
    // Everything this file spawns (redis-server, autopoll, Claude Code) inherits the marker.
    process.env[marker.name] = marker.value;
  });

  afterAll(() => {
    delete process.env[marker.name];
    if (Object.keys(phases).length === 0) return;
    // A phase run alone (vitest -t) replaces its own entry and keeps the other's.
    let previous: { phases?: Record<string, unknown> } = {};
    try {
      previous = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as typeof previous;
    } catch {
      // none yet
    }
    mkdirSync(dirname(RESULTS_FILE), { recursive: true });
    const cpu = cpus();
    const machine = { hostname: hostname(), os: `${osType()} ${release()}`, cpu: `${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`, memoryGB: round(totalmem() / 2 ** 30, 1), node: process.version };
    writeFileSync(RESULTS_FILE, `${JSON.stringify({ benchmark: 'soak', date: new Date().toISOString(), machine, phases: { ...(previous.phases ?? {}), ...phases } }, null, 2)}\n`);
  });

  it('(a) 100,000 questions through the stub answerer (--sessions 64): answered once, nothing grows, nothing left', async () => {
    const outcome = await runPhase(
      {
        name: 'stub',
        questions: STUB_QUESTIONS,
        ratePerSec: 1000,
        outstanding: 2000,
        insertBatch: 500,
        consumerArgs: ['--answerer', 'stub', '--sessions', '64'],
        consumerEnv: {},
        prefill: 0,
        timeLimitSec: 600,
      },
      marker,
    );
    phases.stub = outcome.result;
    expectPhaseHealthy(outcome);
  });

  it('(b) 5,000 turns through Claude Code (--answerer claude --sessions 4, fake API): answered once, nothing grows, nothing left', async () => {
    const api = await new FakeAnthropic().start();
    api.latencyMs = 0;
    let messageRequests = 0;
    let several = 0;
    api.responder = (req) => {
      messageRequests++;
      const ids = [...req.lastUser.matchAll(/<question query_id="([^"]+)">/g)].map((m) => m[1]);
      if (ids.length > 1) several++;
      return { kind: 'text', text: `Answer to ${ids.at(-1) ?? 'nothing'}: see the retry module (notes.md:3-4).` };
    };
    const env = claudeEnv(api.url);
    try {
      const outcome = await runPhase(
        {
          name: 'claude',
          questions: CLAUDE_TURNS,
          ratePerSec: Infinity,
          outstanding: 16,
          insertBatch: 16,
          consumerArgs: ['--answerer', 'claude', '--sessions', '4'],
          consumerEnv: env,
          prefill: JOB_RETENTION.removeOnComplete.count + 1000,
          timeLimitSec: 720,
          expectedAnswer: (q) => `Answer to ${q}:`,
          // The fake keeps every request; the counts above are all this test needs.
          onTick: () => void api.requests.splice(0),
        },
        marker,
        { requests: () => messageRequests, several: () => several },
      );
      phases.claude = outcome.result;
      expectPhaseHealthy(outcome);
      // Each question's request carries that question alone: no memory between questions.
      expect(several).toBe(0);
    } finally {
      await api.stop();
    }
  });
});
