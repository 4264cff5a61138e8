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
 * descriptors, descendants, CPU time (test/support/resourceSampler.ts).
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
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem, type as osType } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_RETENTION } from '../../src/shared/queues.js';
import { BridgeFixture, REPO, tempDir, type Conversation } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { AutopollProcess } from '../support/cli.js';
import { exactlyOnce, type ExactlyOnce } from '../support/exactlyOnce.js';
import { FakeAnthropic } from '../support/fakeAnthropic.js';
import { ProcessMarker } from '../support/leftovers.js';
import { round } from '../support/numbers.js';
import { testPrefix } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { addV8Metrics, type GcEvent, type Growth, parseGcTraceLine, parseRedisInfo, ResourceSampler, windowGrowth } from '../support/resourceSampler.js';
import { Asker } from './support/soakAsker.js';
import { cpuSection, type Measured, readCounters, redisCounters, redisSection, resourcesSection, sqliteSection } from './support/soakReport.js';

/** The floors: not to be cut. */
const STUB_QUESTIONS = 100_000;
const CLAUDE_TURNS = 5_000;

/** After warm-up, no metric may grow by more than this. */
const GROWTH_LIMIT = 0.1;
const GROWTH = { warmup: 0.2, window: 0.2, minSamples: 5 };
const SAMPLE_EVERY_MS = 1000;

const RESULTS_FILE = join(REPO, 'bench/results/soak.json');

// ---------------------------------------------------------------- processes

/** A spawned `node --trace-gc dist/cli/main.js ...`: its collections parsed, not kept as lines. */
class TracedProcess extends AutopollProcess {
  /** performance.now() at spawn: V8's trace times count from about here. */
  readonly spawnedAt = performance.now();
  readonly gc: GcEvent[];

  constructor(name: string, args: string[], env: Record<string, string | undefined>) {
    const gc: GcEvent[] = [];
    const takePlainLine = (line: string) => {
      const event = parseGcTraceLine(line);
      if (event) gc.push(event);
      return event !== undefined;
    };
    super(args, env, { name, nodeArgs: ['--trace-gc'], cwd: REPO, takePlainLine });
    this.gc = gc;
  }
}

/** Redis's own view of its memory, polled beside the sampler (INFO memory keyspace, one command a second). */
class RedisMemoryPoller {
  values: Record<string, number> = {};
  /** INFO commands sent: the test's own, subtracted from the Redis figures. */
  polls = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly client: Redis) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.polls++;
        const info = parseRedisInfo(String(await this.client.call('INFO', 'memory', 'keyspace').catch(() => '')));
        this.values = { 'redis.usedMemoryKb': round(Number(info.used_memory) / 1024, 0), 'redis.keys': Number(/keys=(\d+)/.exec(info.db0 ?? '')?.[1] ?? 0) };
        await sleep(SAMPLE_EVERY_MS);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
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

type Exits = Record<string, { code: number | null; signal: string | null; killedAfterTimeout: boolean }>;

interface PhaseOutcome {
  result: Record<string, unknown>;
  judged: Growth[];
  check: ExactlyOnce;
  exits: Exits;
  leftovers: Array<{ pid: number; command: string }>;
}

/** A phase's own redis-server and bridge file, the processes started on them, and side `a`'s askers. */
class PhaseStack {
  readonly procs: TracedProcess[] = [];
  readonly askers: Asker[] = [];
  readonly exits: Exits = {};
  private redisStopped = false;

  private constructor(
    private readonly marker: ProcessMarker,
    readonly dir: string,
    readonly redis: RedisServer,
    readonly client: Redis,
    /** INFO server of the phase's redis-server. */
    readonly server: Record<string, string>,
    readonly bridge: BridgeFixture,
    readonly conv: Conversation,
    /** What producer and consumer are both started with: the Redis, a prefix, the log level. */
    readonly common: string[],
  ) {}

  static async open(marker: ProcessMarker): Promise<PhaseStack> {
    const dir = tempDir('autopoll-soak-');
    const redis = await RedisServer.start();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    let bridge: BridgeFixture | undefined;
    try {
      const server = parseRedisInfo(String(await client.info('server')));
      bridge = BridgeFixture.create(join(dir, 'bridge.db'));
      const common = ['--redis', redis.url, '--prefix', testPrefix(), '--log-level', 'warn'];
      return new PhaseStack(marker, dir, redis, client, server, bridge, bridge.createConversation(), common);
    } catch (err) {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
      bridge?.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get redisPid(): number {
    return Number(this.server.process_id);
  }

  start(name: string, args: string[], extraEnv: Record<string, string | undefined> = {}): TracedProcess {
    const p = new TracedProcess(name, args, { LOG_LEVEL: 'warn', ...this.marker.env, ...extraEnv });
    this.procs.push(p);
    return p;
  }

  producer(name: string): TracedProcess {
    return this.start(name, ['producer', ...this.common, '--bridge-db', this.bridge.path, '--conversation', `${this.conv.id}:${this.conv.tokenB}`]);
  }

  asker(tag: string): Asker {
    const asker = new Asker(this.bridge, this.conv, tag);
    this.askers.push(asker);
    return asker;
  }

  /** Leaves as a service is left: SIGTERM, in-flight work finished, sessions closed; then Redis. */
  async stopGracefully(producer: TracedProcess, consumer: TracedProcess): Promise<void> {
    this.exits.consumer = await consumer.stop(60_000);
    this.exits.producer = await producer.stop(60_000);
    await this.client.quit().catch(() => undefined);
    await this.redis.stop();
    this.redisStopped = true;
  }

  /** Only on a failure is anything still running here: stops it, and whatever it started. */
  async close(): Promise<void> {
    for (const p of this.procs) await p.kill();
    if (!this.redisStopped) {
      await this.client.quit().catch(() => this.client.disconnect());
      await this.redis.stop();
    }
    for (const left of this.marker.alive()) {
      try {
        process.kill(left.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.bridge.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Answers `prefill` questions through a producer and a stub consumer of their own, then stops
 * them: the measured processes start where a deployment that has run a while stands. Its own
 * producer too: the burst leaves a producer's heap large, and V8 gives it back over minutes,
 * which would pass for growth in the measured producer's windows. The seconds it took.
 */
async function prefill(stack: PhaseStack, c: PhaseConfig): Promise<number> {
  const t = performance.now();
  const producer = stack.producer('prefill producer');
  const stub = stack.start('stub consumer', ['consumer', ...stack.common, '--answerer', 'stub', '--sessions', '64']);
  await stack.asker(`${c.name}_prefill`).run(c.prefill, { ratePerSec: Infinity, outstanding: 2000, insertBatch: 500, timeLimitSec: 300, guard: [producer, stub] });
  stack.exits.prefillConsumer = await stub.stop(60_000);
  stack.exits.prefillProducer = await producer.stop(60_000);
  return round((performance.now() - t) / 1000, 1);
}

/** Starts the measured producer and consumer; one round trip proves the pipeline up (the consumer takes jobs only once its sessions are warm). */
async function startMeasured(stack: PhaseStack, c: PhaseConfig): Promise<{ producer: TracedProcess; consumer: TracedProcess; readySec: number }> {
  const spawnedAt = performance.now();
  const producer = stack.producer('producer');
  const consumer = stack.start('consumer', ['consumer', ...stack.common, ...c.consumerArgs], c.consumerEnv);
  await stack.asker(`${c.name}_ping`).run(1, { ratePerSec: Infinity, outstanding: 1, insertBatch: 1, timeLimitSec: 120, guard: [producer, consumer] });
  return { producer, consumer, readySec: round((performance.now() - spawnedAt) / 1000, 2) };
}

/** The phase's questions asked and answered, sampled all along, with the counters read around it. */
async function measure(stack: PhaseStack, c: PhaseConfig, producer: TracedProcess, consumer: TracedProcess): Promise<Measured & { sampler: ResourceSampler }> {
  const asker = stack.asker(c.name);
  const n = c.questions;
  const poller = new RedisMemoryPoller(stack.client);
  poller.start();
  try {
    const sampler = new ResourceSampler({ producer: producer.pid, consumer: consumer.pid, redis: stack.redisPid }, () => asker.answered / n, SAMPLE_EVERY_MS, () => poller.values);
    const pollsBefore = poller.polls;
    const before = readCounters(stack.bridge, await redisCounters(stack.client));
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
    const pollsAfter = poller.polls;
    const redisAfter = await redisCounters(stack.client);
    await poller.stop();
    const after = readCounters(stack.bridge, redisAfter);
    // The test's own commands, all INFO: the baseline one (counted once it has run; the final one
    // is not yet) and the memory polls sent in between (on the same connection, so run in order).
    const testCommands = 1 + (pollsAfter - pollsBefore);
    return { questions: n, asker, sampler, samples: sampler.samples, end, durationSec, testCpu, testCommands, before, after };
  } finally {
    await poller.stop();
  }
}

/** How each metric grew after warm-up: the judged ones (held to the limit) and the ones only shown. */
function judge(m: Measured & { sampler: ResourceSampler }, processes: { producer: TracedProcess; consumer: TracedProcess }, claude: boolean): { judged: Growth[]; shown: Growth[] } {
  for (const [name, p] of Object.entries(processes)) addV8Metrics(m.samples, name, p.gc, (p.spawnedAt - m.sampler.t0) / 1000);
  const judgedMetrics = [
    'producer.heldRssKb', 'producer.fds', 'producer.children',
    'consumer.heldRssKb', 'consumer.fds', 'consumer.children',
    'redis.rssKb', 'redis.fds', 'redis.children',
    ...(claude ? ['consumer.descRssKb', 'consumer.descFds'] : []),
  ];
  const shownMetrics = [
    'producer.rssKb', 'producer.heapCommittedKb', 'producer.liveHeapKb', 'consumer.rssKb', 'consumer.heapCommittedKb', 'consumer.liveHeapKb', 'redis.usedMemoryKb', 'redis.keys',
  ];
  return { judged: judgedMetrics.map((k) => windowGrowth(m.samples, k, GROWTH)), shown: shownMetrics.map((k) => windowGrowth(m.samples, k, GROWTH)) };
}

async function runPhase(c: PhaseConfig, marker: ProcessMarker, api?: { requests: () => number; several: () => number }): Promise<PhaseOutcome> {
  const stack = await PhaseStack.open(marker);
  try {
    const prefillSec = c.prefill > 0 ? await prefill(stack, c) : null;
    const { producer, consumer, readySec } = await startMeasured(stack, c);
    const m = await measure(stack, c, producer, consumer);

    // A late duplicate would show up now.
    await sleep(1000);
    const phaseIds = new Set(m.asker.queryIds);
    const asked = { queryIds: stack.askers.flatMap((a) => a.queryIds), messageIds: stack.askers.flatMap((a) => a.messageIds) };
    const check = exactlyOnce(stack.bridge, stack.conv.id, asked, c.expectedAnswer && { expectedAnswer: c.expectedAnswer, answerChecked: (q) => phaseIds.has(q) });

    // The processes' last GC lines arrive as they exit.
    await stack.stopGracefully(producer, consumer);
    const leftovers = marker.alive();

    const claude = c.name === 'claude';
    const { judged, shown } = judge(m, { producer, consumer }, claude);
    const n = c.questions;
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
      pipelineReadySec: readySec,
      durationSec: round(m.durationSec, 1),
      questionsPerSec: round(n / m.durationSec, 1),
      loadavg: { before: m.before.loadavg.map((v) => round(v, 2)), after: m.after.loadavg.map((v) => round(v, 2)) },
      versions: { redis: stack.server.redis_version, node: process.version },
      cpu: cpuSection(m, claude, GROWTH.warmup),
      redis: redisSection(m),
      sqlite: sqliteSection(m),
      resources: resourcesSection(m, { judged, shown, options: GROWTH, limit: GROWTH_LIMIT, sampleEveryMs: SAMPLE_EVERY_MS }, { producer, consumer }),
      check,
      exits: stack.exits,
      leftovers,
      ...(api ? { api: { messageRequests: api.requests(), withSeveralQuestions: api.several() } } : {}),
    };
    return { result, judged, check, exits: stack.exits, leftovers };
  } finally {
    await stack.close();
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
          consumerArgs: ['--answerer', 'claude', '--sessions', '4', '--min-sessions', '4'],
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
