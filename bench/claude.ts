/**
 * The Claude benchmark: the real Claude Code binary against a zero-latency fake Anthropic API
 * (test/support/fakeAnthropic.ts), so what is measured is Claude Code's own cost per question.
 *
 *   - baseline, the old shard's way: one `claude -p` process per question, serially, each waited
 *     for (spawn, boot, one API call, exit);
 *   - the persistent pool (ClaudeAnswerer, sessionMemory none) with 1 and with 4 sessions, as many
 *     answers in flight as sessions; the pool's start (warm) is not timed.
 *
 * Seconds per question = the phase's wall time / the questions it did; speed-up = baseline's
 * seconds per question / the pool's. Beside it: CPU of the machine, of the Claude Code processes
 * and of the bench (which also serves the fake API), and the API requests the fake saw.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBaseline } from './claude/baseline.js';
import { runPool } from './claude/pool.js';
import { claudeVersion, leftovers } from './claude/processes.js';
import { killGroup } from '../src/consumer/claude/processTree.js';
import { setUpRun, type ClaudeRun } from './claude/setup.js';
import { REPO } from '../test/support/bridge.js';
import { round } from '../test/support/numbers.js';
import type { CpuFigure } from './cpuMeter.js';
import { type Distribution } from './numbers.js';

/** Speed-up over the baseline's seconds per question, by pool size. */
export const CLAUDE_TARGETS: Record<number, number> = { 1: 5, 4: 20 };

/** The Claude Code binary the SDK ships (the pool is given the same one). */
export const CLAUDE_BIN = join(REPO, 'node_modules/@anthropic-ai/claude-agent-sdk-linux-x64/claude');

export interface ClaudeConfig {
  /** Questions per pool phase, and the baseline's unless baselineN is lower. */
  n: number;
  baselineN: number;
  /** The baseline stops starting processes after this long (s/question is over those it did). */
  baselineBudgetSec: number;
  /** Pool sizes to measure, in order. */
  pools: number[];
  /** A pool phase stops handing out questions after this long. */
  poolBudgetSec: number;
  model: string;
  turnTimeoutSec: number;
  maxTurnsPerSession: number;
  maxContextTokens: number;
  executable: string;
}

export interface PhaseResult {
  phase: string;
  /** Pool size; null for the baseline. */
  sessions: number | null;
  /** Questions the phase was to answer. */
  planned: number;
  /** Questions it did (answered + failed); fewer than planned when its time budget ran out. */
  done: number;
  /** Answers that came back and name their own question (the fake echoes each question's query id). */
  answered: number;
  failed: number;
  failures: string[];
  stoppedBy: 'time budget' | null;
  totalSec: number;
  secPerQuestion: number | null;
  /** Baseline's seconds per question / this phase's. */
  speedup: number | null;
  target: number | null;
  /** Per question, ms: the process's spawn -> exit (baseline), answer() call -> return (pool). */
  questionMs: Distribution | null;
  /** Pool: start() (every session booted and warmed with a /clear), not part of totalSec. */
  startSec: number | null;
  closeSec: number | null;
  /** Sessions launched during the timed part (recycles after maxTurnsPerSession, restarts). */
  sessionsLaunched: number | null;
  sessionsReplaced: Record<string, number> | null;
  /** Requests the fake API saw during the timed part. */
  api: { messages: number; all: number; messagesPerQuestion: number | null; withSeveralQuestions: number };
  cpu: {
    /** Every process on the machine (other work running meanwhile included). */
    machine: CpuFigure | null;
    /** The Claude Code processes (live sessions and those that exited meanwhile). */
    claude: CpuFigure | null;
    /** The bench process itself: the fake API, the SDK's plumbing, the driver. */
    bench: CpuFigure | null;
    claudeMsPerQuestion: number | null;
    machineMsPerQuestion: number | null;
  };
  /** Pool: session processes that exited (recycled, closed or crashed), from its log. */
  sessionExits: number | null;
  /** The pool's other log lines at warn or above. */
  logWarnings: number;
  logErrors: number;
  notable: string[];
}

export interface ClaudeResult {
  benchmark: 'claude';
  targets: typeof CLAUDE_TARGETS;
  config: ClaudeConfig;
  binary: { path: string; version: string | null };
  phases: PhaseResult[];
  /** Claude Code processes the bench started that were still running at the end (should be 0). */
  leftoverProcesses: number;
}

export async function runClaudeBench(config: ClaudeConfig, log: (line: string) => void, stop?: AbortSignal): Promise<ClaudeResult> {
  const signal = stop ?? new AbortController().signal;
  if (!existsSync(config.executable)) throw new Error(`no Claude Code binary at ${config.executable} (BENCH_CLAUDE_BIN)`);
  const undo: Array<() => Promise<void>> = [];
  const started = new Set<number>();
  try {
    const run: ClaudeRun = { config, ...(await setUpRun(undo)), started, log, signal };
    const version = await claudeVersion(config.executable, run.env);
    log(`[claude] ${config.executable} (${version ?? 'version unknown'}), fake API at ${run.api.url} (0 ms latency)`);

    const phases: PhaseResult[] = [];
    const baseline = await runBaseline(run);
    phases.push(baseline);
    for (const sessions of config.pools) {
      const phase = await runPool(sessions, run);
      phase.target = CLAUDE_TARGETS[sessions] ?? null;
      if (baseline.secPerQuestion && phase.secPerQuestion) phase.speedup = round(baseline.secPerQuestion / phase.secPerQuestion, 1);
      phases.push(phase);
    }
    return {
      benchmark: 'claude',
      targets: CLAUDE_TARGETS,
      config,
      binary: { path: config.executable, version },
      phases,
      leftoverProcesses: leftovers(started, config.executable).length,
    };
  } finally {
    // Anything still running now is killed (its whole group); it would be a bug in the pool's close().
    for (const pid of leftovers(started, config.executable)) killGroup(pid);
    for (const u of undo.reverse()) await u();
  }
}
