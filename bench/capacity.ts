/**
 * The capacity benchmark: one autopoll host at a realistic API latency, measured from outside the
 * way users run it. The fake Anthropic API (test/support/fakeAnthropic.ts) answers after
 * `latencyMs`; the built CLI runs on a private redis-server: `producer`, and ONE
 * `consumer --sessions N` with the real Claude Code binary, for each N. Per size, every question
 * is asked at once after the consumer is warm: q/s (first ask -> last answer row), asked -> answer
 * row per question, CPU per question by process, RSS per Claude Code session, every answer
 * exactly once. Beside it, at the same latency, the seed-style baseline (one `claude -p` per
 * question, serially: bench/claude/baseline.ts), and the comparison with a replica of the old
 * shard itself (bench/seedShard.py) at zero latency and at this latency.
 */
import { existsSync } from 'node:fs';
import { runBaseline } from './claude/baseline.js';
import { leftovers } from './claude/processes.js';
import { killGroup } from '../src/consumer/claude/processTree.js';
import { setUpRun } from './claude/setup.js';
import type { ClaudeConfig, PhaseResult } from './claude.js';
import { withIdeal } from './capacity/figures.js';
import { runSize } from './capacity/size.js';
import { compareWithShard } from './capacity/shard.js';
import type { CpuPart } from './capacity/hostMeter.js';
import type { ExactlyOnce } from '../test/support/exactlyOnce.js';
import type { Distribution } from './numbers.js';

export const CAPACITY_TARGETS = {
  /** Throughput of `--sessions 32` / the baseline's, at the same latency. */
  speedupAt32: 30,
  /** The old shard's time / autopoll's, 40 questions waiting, zero-latency API, `--sessions 4`. */
  shardAtZeroLatency: 15,
};

export interface CapacityConfig {
  /** --sessions of the consumer, one size each. */
  sizes: number[];
  questionsPerSession: number;
  /** The fake API's delay before each reply. */
  latencyMs: number;
  /** The baseline's questions, and the time after which it starts no more. */
  baselineN: number;
  baselineBudgetSec: number;
  /** The shard comparison: questions at zero latency (both), the replica's at `latencyMs` (autopoll keeps shardN), autopoll's sessions. */
  shard: boolean;
  shardN: number;
  shardSlowN: number;
  shardSessions: number;
  executable: string;
}

export interface CapacitySize {
  sessions: number;
  questions: number;
  /** Consumer spawn -> every session warm. */
  consumerReadySec: number;
  /** First ask -> last answer row. */
  totalSec: number;
  questionsPerSec: number;
  /** sessions / (latency + the per-question overhead measured with one session); null without a 1-session size. */
  idealQps: number | null;
  /** Throughput / the baseline's. */
  speedup: number | null;
  target: number | null;
  /** Asked -> answer row, per question. */
  questionMs: Distribution | null;
  cpuMsPerQuestion: Record<CpuPart, number | null>;
  /** CPU seconds by process over the metered time (start of asking -> last answer seen), and that time. */
  cpuSec: Record<CpuPart, number | null>;
  meteredSec: number;
  /** Each Claude Code session's largest RSS. */
  rssPerSessionMB: Distribution | null;
  rssTotalMB: number | null;
  check: ExactlyOnce;
  logLines: { warnings: number; errors: number; first: string[] };
}

export interface ShardRun {
  questions: number;
  /** Its start (the replica's spawn, the producer's spawn) -> its last answer row. */
  totalSec: number;
  questionsPerSec: number;
  /** Every question answered exactly once by an answer naming it (and, for autopoll, the ledger agreeing). */
  answeredOnce: boolean;
  /** Autopoll: the producer's spawn -> its first heartbeat, part of totalSec; null for the replica. */
  producerReadySec: number | null;
}

export interface ShardComparison {
  latencyMs: number;
  sessions: number;
  replica: ShardRun;
  autopoll: ShardRun;
  /** autopoll's q/s / the replica's (with as many questions, the replica's time / autopoll's). */
  speedup: number | null;
  target: number | null;
}

export interface CapacityResult {
  benchmark: 'capacity';
  targets: typeof CAPACITY_TARGETS;
  config: CapacityConfig;
  /** Per-question overhead beyond the API's latency with one session (s/question - latency), the ideal's basis. */
  overheadSec: number | null;
  baseline: PhaseResult & { questionsPerSec: number | null };
  sizes: CapacitySize[];
  shard: ShardComparison[];
  /** Baseline `claude -p` processes still running at the end (should be 0). */
  leftoverProcesses: number;
}

export async function runCapacityBench(config: CapacityConfig, log: (line: string) => void, stop: AbortSignal): Promise<CapacityResult> {
  if (!existsSync(config.executable)) throw new Error(`no Claude Code binary at ${config.executable} (BENCH_CLAUDE_BIN)`);
  const undo: Array<() => Promise<void>> = [];
  const started = new Set<number>();
  try {
    const { api, env, toolsRoot } = await setUpRun(undo);
    api.latencyMs = config.latencyMs;
    log(`[capacity] fake API at ${api.url}, ${config.latencyMs} ms a reply; Claude Code ${config.executable}`);
    const claudeConfig: ClaudeConfig = {
      n: config.baselineN, baselineN: config.baselineN, baselineBudgetSec: config.baselineBudgetSec, pools: [], poolBudgetSec: 0,
      model: 'haiku', turnTimeoutSec: 60, maxTurnsPerSession: 50, maxContextTokens: 100_000, executable: config.executable,
    };
    const baseline = await runBaseline({ config: claudeConfig, api, env, toolsRoot, started, log, signal: stop });
    const sizes: CapacitySize[] = [];
    for (const sessions of config.sizes) {
      if (stop.aborted) break;
      sizes.push(await runSize(sessions, config, env, log));
    }
    const shard: ShardComparison[] = [];
    if (config.shard && !stop.aborted) {
      api.latencyMs = 0;
      shard.push(await compareWithShard({ latencyMs: 0, replicaQuestions: config.shardN, autopollQuestions: config.shardN, target: CAPACITY_TARGETS.shardAtZeroLatency }, config, env, toolsRoot, log));
      api.latencyMs = config.latencyMs;
      if (!stop.aborted) shard.push(await compareWithShard({ latencyMs: config.latencyMs, replicaQuestions: config.shardSlowN, autopollQuestions: config.shardN, target: null }, config, env, toolsRoot, log));
    }
    const baselineQps = baseline.secPerQuestion ? 1 / baseline.secPerQuestion : null;
    const figures = withIdeal(sizes, baselineQps, config.latencyMs, CAPACITY_TARGETS.speedupAt32);
    return {
      benchmark: 'capacity',
      targets: CAPACITY_TARGETS,
      config,
      overheadSec: figures.overheadSec,
      baseline: { ...baseline, questionsPerSec: baselineQps === null ? null : Math.round(baselineQps * 1000) / 1000 },
      sizes: figures.sizes,
      shard,
      leftoverProcesses: leftovers(started, config.executable).length,
    };
  } finally {
    for (const pid of leftovers(started, config.executable)) killGroup(pid);
    for (const u of undo.reverse()) await u();
  }
}
