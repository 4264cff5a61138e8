/**
 * `npm run bench`: builds, then runs the benchmarks against the built CLI and prints figures
 * with their targets (figures, not pass/fail). Results also go to bench/results/<name>.json.
 *
 * Which benchmarks: the names given as arguments (`npm run bench -- scale`, `... -- pipeline
 * claude`), else BENCH_ONLY (a comma-separated list), else all but the opt-in ones: pipeline,
 * claude, scale, capacity, startup, idle, mcp. The knobs benchmark runs only when named (`npm run bench -- knobs`).
 * BENCH_CLAUDE=0 skips the Claude ones (claude, idle).
 *
 * Pipeline knobs (environment): BENCH_N (throughput questions, 20000), BENCH_REPEAT (throughput runs
 * per scenario, median reported; 3), BENCH_LATENCY_N (300),
 * BENCH_LATENCY_GAP_MS (10), BENCH_WARMUP_N (500), BENCH_OLD_MESSAGES (1000000; 0 skips that
 * scenario), BENCH_SESSIONS (64), BENCH_INSERT_BATCH (100), BENCH_CPU_PROF=1 (children write
 * .cpuprofile files to bench/results/profiles), BENCH_TIMEOUT_SEC (whole run; 420 per benchmark run,
 * 900 for capacity, 300 for startup and mcp).
 *
 * The Claude benchmark's knobs: BENCH_CLAUDE_N (questions
 * per phase, 200), BENCH_CLAUDE_BASELINE_N (the baseline's, at most BENCH_CLAUDE_N; 200),
 * BENCH_CLAUDE_BASELINE_SEC (the baseline's time budget, 180), BENCH_CLAUDE_POOL_SEC (each pool
 * phase's, 90), BENCH_CLAUDE_SESSIONS (pool sizes, "1,4"), BENCH_CLAUDE_MAX_TURNS (turns before a
 * session is recycled, 50), BENCH_CLAUDE_BIN (Claude Code binary; the one the SDK ships),
 * BENCH_SESSION_ENV ("NAME=VALUE,..." every Claude Code process of the run gets besides the sessions' own).
 *
 * The knobs benchmark's knobs: BENCH_KNOBS_ROUNDS (5), BENCH_KNOBS_TURNS (measured turns per session and round, 10),
 * BENCH_KNOBS_WARMUP (unmeasured turns per session first, 3), BENCH_KNOBS_LATENCY_MS (the fake API's delay a reply, 0),
 * BENCH_KNOBS (comma-separated knob names; all), BENCH_KNOBS_TOOLS=1 (sessions get the read-only
 * tools), BENCH_KNOBS_SESSIONS (the in-flight pool's size, 4), BENCH_KNOBS_IN_FLIGHT ("4,2"),
 * BENCH_KNOBS_IN_FLIGHT_ROUNDS (3; 0 skips it), BENCH_KNOBS_IN_FLIGHT_N (questions per run, 40).
 *
 * The scale-out benchmark's knobs: BENCH_SCALE_SEC (window measured per phase, 30),
 * BENCH_SCALE_WARMUP_SEC (first answer -> window, 3), BENCH_SCALE_CONSUMERS (consumer processes
 * per phase, "1,2,4"), BENCH_SCALE_SESSIONS (--sessions of each, 4), BENCH_SCALE_LATENCY_MS
 * (--stub-latency-ms, 500), BENCH_SCALE_BACKLOG_SEC (seconds of ideal throughput kept asked and
 * unanswered, on top of one question per session; 3).
 *
 * The capacity benchmark's knobs: BENCH_CAPACITY_LATENCY_MS (the fake API's delay a reply, 1500),
 * BENCH_CAPACITY_SESSIONS (--sessions of the one consumer, a size each, "1,4,8,16,32"),
 * BENCH_CAPACITY_QUESTIONS (questions per session, asked at once, 10), BENCH_CAPACITY_BASELINE_N
 * (the `claude -p` baseline's questions, 12), BENCH_CAPACITY_BASELINE_SEC (its time budget, 180),
 * BENCH_SHARD=0 skips the comparison with the old shard's replica, BENCH_SHARD_N (questions waiting
 * for each, 40), BENCH_SHARD_SLOW_N (the replica's at the API latency, 8), BENCH_SHARD_SESSIONS (4).
 *
 * The start-up benchmark's knobs: BENCH_STARTUP_HELP_N (spawns of each --help, 10),
 * BENCH_STARTUP_PRODUCER_N (producers spawned to a waiting question, 5), BENCH_STARTUP_CLAUDE_N
 * (consumers spawned to a warm Claude Code session, 3; 0 or BENCH_CLAUDE=0 skips them).
 *
 * The idle benchmark's knobs: BENCH_IDLE_SESSIONS (--sessions, 16), BENCH_IDLE_BURST (questions per
 * burst, 32), BENCH_IDLE_WAIT_SEC (last answer -> CPU window, 90), BENCH_IDLE_WINDOW_SEC (30),
 * BENCH_IDLE_SESSION_TIMEOUT (--session-idle-timeout; the consumer's default when unset),
 * BENCH_IDLE_MIN_SESSIONS (--min-sessions; the default when unset, the sessions for a fixed pool). A quick
 * run: BENCH_IDLE_WAIT_SEC=15 BENCH_IDLE_SESSION_TIMEOUT=5 BENCH_IDLE_WINDOW_SEC=10.
 *
 * The MCP benchmark's knobs: BENCH_MCP_N (questions asked one at a time through `autopoll mcp`, then
 * again with `autopoll ask`, 30; after 3 warm-up asks through MCP), BENCH_MCP_CONCURRENT (asks in
 * flight at once through the one server, 50), BENCH_MCP_SESSIONS (--sessions of the stub shard, 16).
 *
 * At the end it writes bench/REPORT.md and its charts (bench/report/) from the results files, the
 * machine and the versions (recorded in every results file as `environment`); BENCH_REPORT=0 skips
 * that. `npm run bench:report` writes them again from the results files without running anything.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { runCapacityBench } from './capacity.js';
import { formatCapacity } from './capacity/format.js';
import { CLAUDE_BIN, runClaudeBench } from './claude.js';
import { formatClaude } from './claude/format.js';
import { runKnobsBench } from './knobs.js';
import { formatKnobs } from './knobs/format.js';
import { selectKnobs } from './knobs/variants.js';
import { runPipelineBench } from './pipeline.js';
import { formatPipeline } from './pipeline/format.js';
import { collectEnvironment } from './report/environment.js';
import { writeReport } from './report/write.js';
import { runIdleBench } from './idle.js';
import { formatIdle } from './idle/format.js';
import { runMcpBench } from './mcp.js';
import { formatMcp } from './mcp/format.js';
import { runScaleBench } from './scale.js';
import { formatScale } from './scale/format.js';
import { runStartupBench } from './startup.js';
import { formatStartup } from './startup/format.js';
import { REPO } from '../test/support/bridge.js';
import { cleanup, removeStaleTempDirs } from './cleanup.js';
import { envInt } from './numbers.js';

const RESULTS = join(REPO, 'bench', 'results');
const log = (line: string) => process.stdout.write(`${line}\n`);

let aborting = false;
/** Aborted when the run is being stopped (signal, watchdog): a benchmark that watches it stops starting work. */
const stopping = new AbortController();

/** Cleans up and exits; runs once (a Ctrl-C reaches the bench both from the terminal and relayed by tsx). */
async function abort(why: string, code: number): Promise<void> {
  if (aborting) return;
  aborting = true;
  stopping.abort();
  process.stderr.write(`bench: ${why}; cleaning up\n`);
  await cleanup.runAll();
  process.exit(code);
}

const BENCHMARKS = ['pipeline', 'claude', 'scale', 'capacity', 'startup', 'idle', 'mcp', 'knobs'] as const;
type Benchmark = (typeof BENCHMARKS)[number];
/** Run only when named: measurements for a decision, not figures against a target. */
const OPT_IN: readonly Benchmark[] = ['knobs'];

/** The whole run's default time limit is the sum of its benchmarks' (capacity starts up to 32 Claude Code sessions a size). */
const BUDGET_SEC: Record<Benchmark, number> = { pipeline: 420, claude: 420, scale: 420, capacity: 900, startup: 300, idle: 420, mcp: 300, knobs: 900 };

/**
 * The benchmarks to run: those named as arguments, else BENCH_ONLY's list, else all but the
 * opt-in ones; less the Claude ones (claude, idle)
 * when BENCH_CLAUDE=0.
 */
function selected(): Benchmark[] {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const [source, only] = args.length
    ? ['arguments', args]
    : ['BENCH_ONLY', (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean)];
  for (const name of only) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) throw new Error(`${source}: unknown benchmark ${JSON.stringify(name)}; known: ${BENCHMARKS.join(', ')}`);
  }
  return BENCHMARKS.filter((b) => (only.length === 0 ? !OPT_IN.includes(b) : only.includes(b)) && !((b === 'claude' || b === 'idle') && process.env.BENCH_CLAUDE === '0'));
}

/** A comma-separated list of positive integers. */
function envInts(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got ${JSON.stringify(raw)}`);
  return values;
}

async function main(): Promise<void> {
  const benchmarks = selected();
  const timeoutSec = envInt('BENCH_TIMEOUT_SEC', Math.max(420, benchmarks.reduce((sum, b) => sum + BUDGET_SEC[b], 0)));
  const watchdog = setTimeout(() => void abort(`the whole run took longer than ${timeoutSec} s`, 1), timeoutSec * 1000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void abort(`got ${signal}`, 130));

  const stale = removeStaleTempDirs();
  if (stale.length) log(`removed ${stale.length} temp folder(s) left by an earlier bench that was killed: ${stale.join(', ')}`);
  mkdirSync(RESULTS, { recursive: true });
  const cpuProfDir = process.env.BENCH_CPU_PROF ? join(RESULTS, 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const machine = { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '?', memoryGB: Math.round(totalmem() / 1e9), node: process.version, platform: process.platform };
  log(`autopoll benchmarks on ${machine.cpus} cores (${machine.cpuModel}), node ${machine.node}`);
  // Machine and versions, recorded in every results file for the report.
  const environment = collectEnvironment();

  const machineLine = `${machine.cpus} cores`;
  if (benchmarks.length === 0) log('no benchmark selected (arguments, BENCH_ONLY, BENCH_CLAUDE)');
  // Each report is printed as its benchmark finishes.
  const report = (lines: string[]) => log(lines.join('\n'));

  if (benchmarks.includes('pipeline')) {
    const pipeline = await runPipelineBench(
      {
        throughputN: envInt('BENCH_N', 20_000),
        throughputRepeat: Math.max(1, envInt('BENCH_REPEAT', 3)),
        insertBatch: Math.max(1, envInt('BENCH_INSERT_BATCH', 100)),
        latencyN: envInt('BENCH_LATENCY_N', 300),
        latencyGapMs: envInt('BENCH_LATENCY_GAP_MS', 10),
        warmupN: envInt('BENCH_WARMUP_N', 500),
        oldMessages: envInt('BENCH_OLD_MESSAGES', 1_000_000),
        sessions: Math.max(1, envInt('BENCH_SESSIONS', 64)),
        throughputTimeoutMs: 100_000,
        cpuProfDir,
      },
      log,
    );
    const file = join(RESULTS, 'pipeline.json');
    writeFileSync(file, `${JSON.stringify({ ...pipeline, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', '== pipeline: bridge -> producer -> Redis -> consumer (stub) -> producer -> bridge ==', formatPipeline(pipeline), '', `results: ${file}${cpuProfDir ? `; CPU profiles: ${cpuProfDir}` : ''}`]);
  }

  if (benchmarks.includes('claude')) {
    const n = Math.max(1, envInt('BENCH_CLAUDE_N', 200));
    const claude = await runClaudeBench(
      {
        n,
        baselineN: Math.max(1, Math.min(n, envInt('BENCH_CLAUDE_BASELINE_N', n))),
        baselineBudgetSec: envInt('BENCH_CLAUDE_BASELINE_SEC', 180),
        pools: envInts('BENCH_CLAUDE_SESSIONS', [1, 4]),
        poolBudgetSec: envInt('BENCH_CLAUDE_POOL_SEC', 90),
        model: 'haiku',
        turnTimeoutSec: 60,
        maxTurnsPerSession: Math.max(1, envInt('BENCH_CLAUDE_MAX_TURNS', 50)),
        maxContextTokens: 100_000,
        executable: process.env.BENCH_CLAUDE_BIN || CLAUDE_BIN,
      },
      log,
      stopping.signal,
    );
    const file = join(RESULTS, 'claude.json');
    writeFileSync(file, `${JSON.stringify({ ...claude, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== claude: a Claude Code process per question vs the persistent pool (real binary, fake API, ${machineLine}) ==`, formatClaude(claude), '', `results: ${file}`]);
  }

  if (benchmarks.includes('knobs')) {
    const knobs = await runKnobsBench(
      {
        rounds: Math.max(1, envInt('BENCH_KNOBS_ROUNDS', 5)),
        turns: Math.max(1, envInt('BENCH_KNOBS_TURNS', 10)),
        warmupTurns: envInt('BENCH_KNOBS_WARMUP', 3),
        latencyMs: Math.max(0, envInt('BENCH_KNOBS_LATENCY_MS', 0)),
        knobs: selectKnobs((process.env.BENCH_KNOBS ?? '').split(',').map((s) => s.trim()).filter(Boolean)),
        tools: process.env.BENCH_KNOBS_TOOLS === '1',
        inFlight: {
          sessions: Math.max(1, envInt('BENCH_KNOBS_SESSIONS', 4)),
          counts: envInts('BENCH_KNOBS_IN_FLIGHT', [4, 2]),
          rounds: envInt('BENCH_KNOBS_IN_FLIGHT_ROUNDS', 3),
          questions: Math.max(1, envInt('BENCH_KNOBS_IN_FLIGHT_N', 40)),
        },
        claude: { model: 'haiku', turnTimeoutSec: 60, maxContextTokens: 100_000, executable: process.env.BENCH_CLAUDE_BIN || CLAUDE_BIN },
      },
      log,
      stopping.signal,
    );
    const file = join(RESULTS, 'knobs.json');
    writeFileSync(file, `${JSON.stringify({ ...knobs, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== knobs: Claude Code CPU per turn and per /clear, each knob alone vs the session as it is (real binary, fake API, ${machineLine}) ==`, formatKnobs(knobs), '', `results: ${file}`]);
  }

  if (benchmarks.includes('scale')) {
    const scale = await runScaleBench(
      {
        consumers: envInts('BENCH_SCALE_CONSUMERS', [1, 2, 4]),
        sessionsPerConsumer: Math.max(1, envInt('BENCH_SCALE_SESSIONS', 4)),
        stubLatencyMs: Math.max(1, envInt('BENCH_SCALE_LATENCY_MS', 500)),
        windowSec: Math.max(1, envInt('BENCH_SCALE_SEC', 30)),
        warmupSec: envInt('BENCH_SCALE_WARMUP_SEC', 3),
        backlogSec: Math.max(1, envInt('BENCH_SCALE_BACKLOG_SEC', 3)),
      },
      log,
      stopping.signal,
    );
    const file = join(RESULTS, 'scale.json');
    writeFileSync(file, `${JSON.stringify({ ...scale, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== scale: 1 producer, N consumer processes (stub answerer, ${scale.config.stubLatencyMs} ms an answer), ${machineLine} ==`, formatScale(scale), '', `results: ${file}`]);
  }

  if (benchmarks.includes('capacity')) {
    const capacity = await runCapacityBench(
      {
        sizes: envInts('BENCH_CAPACITY_SESSIONS', [1, 4, 8, 16, 32]),
        questionsPerSession: Math.max(1, envInt('BENCH_CAPACITY_QUESTIONS', 10)),
        latencyMs: envInt('BENCH_CAPACITY_LATENCY_MS', 1500),
        baselineN: Math.max(1, envInt('BENCH_CAPACITY_BASELINE_N', 12)),
        baselineBudgetSec: envInt('BENCH_CAPACITY_BASELINE_SEC', 180),
        shard: process.env.BENCH_SHARD !== '0',
        shardN: Math.max(1, envInt('BENCH_SHARD_N', 40)),
        shardSlowN: Math.max(1, envInt('BENCH_SHARD_SLOW_N', 8)),
        shardSessions: Math.max(1, envInt('BENCH_SHARD_SESSIONS', 4)),
        executable: process.env.BENCH_CLAUDE_BIN || CLAUDE_BIN,
      },
      log,
      stopping.signal,
    );
    const file = join(RESULTS, 'capacity.json');
    writeFileSync(file, `${JSON.stringify({ ...capacity, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== capacity: one host (producer + one \`consumer --sessions N\`, real Claude Code) at ${capacity.config.latencyMs} ms a reply, ${machineLine} ==`, formatCapacity(capacity), '', `results: ${file}`]);
  }

  if (benchmarks.includes('startup')) {
    const startup = await runStartupBench(
      {
        helpRuns: Math.max(1, envInt('BENCH_STARTUP_HELP_N', 10)),
        producerRuns: Math.max(1, envInt('BENCH_STARTUP_PRODUCER_N', 5)),
        claudeRuns: process.env.BENCH_CLAUDE === '0' ? 0 : envInt('BENCH_STARTUP_CLAUDE_N', 3),
      },
      log,
    );
    const file = join(RESULTS, 'startup.json');
    writeFileSync(file, `${JSON.stringify({ ...startup, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== startup: each command's start, spawn to work (${machineLine}) ==`, formatStartup(startup), '', `results: ${file}`]);
  }

  if (benchmarks.includes('idle')) {
    const timeout = process.env.BENCH_IDLE_SESSION_TIMEOUT;
    const min = process.env.BENCH_IDLE_MIN_SESSIONS;
    const idle = await runIdleBench(
      {
        sessions: Math.max(1, envInt('BENCH_IDLE_SESSIONS', 16)),
        burst: Math.max(1, envInt('BENCH_IDLE_BURST', 32)),
        idleSec: envInt('BENCH_IDLE_WAIT_SEC', 90),
        windowSec: Math.max(1, envInt('BENCH_IDLE_WINDOW_SEC', 30)),
        sessionIdleTimeoutSec: timeout ? Math.max(1, envInt('BENCH_IDLE_SESSION_TIMEOUT', 60)) : undefined,
        minSessions: min ? Math.max(1, envInt('BENCH_IDLE_MIN_SESSIONS', 1)) : undefined,
      },
      log,
      stopping.signal,
    );
    const file = join(RESULTS, 'idle.json');
    writeFileSync(file, `${JSON.stringify({ ...idle, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== idle: consumer --sessions ${idle.config.sessions} between two bursts (real binary, fake API, ${machineLine}) ==`, formatIdle(idle), '', `results: ${file}`]);
  }

  if (benchmarks.includes('mcp')) {
    const mcp = await runMcpBench(
      {
        n: Math.max(1, envInt('BENCH_MCP_N', 30)),
        warmup: 3,
        concurrent: Math.max(1, envInt('BENCH_MCP_CONCURRENT', 50)),
        sessions: Math.max(1, envInt('BENCH_MCP_SESSIONS', 16)),
      },
      log,
    );
    const file = join(RESULTS, 'mcp.json');
    writeFileSync(file, `${JSON.stringify({ ...mcp, machine, environment, finishedAt: new Date().toISOString() }, null, 2)}\n`);
    report(['', `== mcp: ask through \`autopoll mcp\` (MCP SDK client, stdio) vs \`autopoll ask\`, stub shard at 0 ms (${machineLine}) ==`, formatMcp(mcp), '', `results: ${file}`]);
  }

  // The report covers the default benchmarks: a run of opt-in ones alone leaves it as it is.
  if (benchmarks.some((b) => !OPT_IN.includes(b)) && process.env.BENCH_REPORT !== '0') {
    const { reportFile, charts } = await writeReport({ command: 'npm run bench' });
    log(`\nreport: ${reportFile} (${charts.length} charts in ${join(REPO, 'bench', 'report')})`);
  }
}

// Once abort() runs, it cleans up and sets the exit code; main's end (its work failing as things
// are stopped under it) is not reported.
main().then(
  async () => {
    if (aborting) return;
    await cleanup.runAll();
    process.exit(0);
  },
  async (err: unknown) => {
    if (aborting) return;
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanup.runAll();
    process.exit(1);
  },
);
