/**
 * The knobs benchmark (opt-in: `npm run bench -- knobs`): what each Claude Code knob saves per
 * turn. The real binary against the zero-latency fake API, one ClaudeSession per variant (the
 * product's own session, options and environment), all started and given a few unmeasured turns
 * up front; then rounds in which every session, the baseline's (the session's environment as it
 * is) among them, answers one question at a time in turn (B k1 k2 ... B k1 k2 ..., the order
 * rotated each turn), so the machine's drift and a session's idle gaps fall alike on all. Per
 * turn: Claude Code's CPU for the turn and for its /clear (/proc of the process and its reaped
 * children), wall time of each, and the API requests. A knob's ratio is its round's CPU over the
 * baseline's same round; medians over rounds are reported.
 *
 * (Blocks of turns per session, B k1 B k2 ..., were tried first: the baseline, warm from running
 * every other block, came out 20-60% cheaper than every knob: they measured warmth, not knobs.)
 *
 * Then turns in flight versus sessions: one pool of N sessions with all of them in flight, and
 * with fewer, alternated.
 */
import { existsSync } from 'node:fs';
import { round } from '../test/support/numbers.js';
import { LogCounter } from './claude/poolLog.js';
import { claudeVersion, leftovers } from './claude/processes.js';
import { killGroup } from '../src/consumer/claude/processTree.js';
import { setUpRun, type ClaudeRun } from './claude/setup.js';
import type { ClaudeConfig } from './claude.js';
import { runInFlight, type InFlightRun } from './knobs/inflight.js';
import { MeasuredSession, type Block } from './knobs/session.js';
import { BASELINE, type Variant } from './knobs/variants.js';

export interface KnobsConfig {
  rounds: number;
  /** Measured turns (each with its /clear) per session and round, and unmeasured ones before. */
  turns: number;
  warmupTurns: number;
  /** The fake API's delay a reply: what a session does while it waits (its GC timer) shows only above 0. */
  latencyMs: number;
  knobs: Variant[];
  /** Give the sessions the read-only tools (as --tools-root does). */
  tools: boolean;
  /** Turns in flight versus sessions: the pool's size, the in-flight counts alternated, rounds, questions per run. */
  inFlight: { sessions: number; counts: number[]; rounds: number; questions: number };
  claude: Pick<ClaudeConfig, 'model' | 'turnTimeoutSec' | 'maxContextTokens' | 'executable'>;
}

export interface VariantFigures {
  name: string;
  env: Record<string, string>;
  /** Medians over rounds, ms of Claude Code CPU. */
  turnCpuMs: number;
  clearCpuMs: number;
  turnMs: number;
  clearMs: number;
  messagesPerTurn: number;
  requestsPerTurn: number;
  /** Median over rounds of this variant's CPU / the baseline's in the same round (1 for the baseline). */
  turnCpuRatio: number;
  clearCpuRatio: number;
  /** CPU and time from spawn to warm: what a new process instead of a /clear costs. */
  startCpuMs: number;
  startMs: number;
  wrongAnswers: number;
}

export interface KnobsResult {
  benchmark: 'knobs';
  config: KnobsConfig;
  binary: { path: string; version: string | null };
  variants: VariantFigures[];
  inFlight: InFlightRun[];
  leftoverProcesses: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function runKnobsBench(config: KnobsConfig, log: (line: string) => void, signal: AbortSignal): Promise<KnobsResult> {
  const claude = { ...config.claude, n: 0, baselineN: 0, baselineBudgetSec: 0, pools: [], poolBudgetSec: 0, maxTurnsPerSession: 1_000_000 };
  if (!existsSync(claude.executable)) throw new Error(`no Claude Code binary at ${claude.executable} (BENCH_CLAUDE_BIN)`);
  const undo: Array<() => Promise<void>> = [];
  const started = new Set<number>();
  const sessions: MeasuredSession[] = [];
  try {
    const run: ClaudeRun = { config: claude, ...(await setUpRun(undo)), started, log, signal };
    run.api.latencyMs = config.latencyMs;
    const version = await claudeVersion(claude.executable, run.env);
    log(`[knobs] ${claude.executable} (${version ?? 'version unknown'}), ${config.knobs.length} knobs, ${config.rounds} rounds of ${config.turns} turns, API latency ${config.latencyMs} ms, tools ${config.tools ? 'on' : 'off'}`);
    const logs = new LogCounter();
    for (const v of [BASELINE, ...config.knobs]) {
      const s = new MeasuredSession(v, run, logs.logger, config.tools);
      sessions.push(s);
      await s.start();
      if (s.pid) started.add(s.pid);
    }
    // Unmeasured turns first: a session's first turns run colder code than its later ones.
    let next = 0;
    for (const s of sessions) {
      await s.block(config.warmupTurns, next);
      next += config.warmupTurns;
    }
    const rounds = sessions.map(() => [] as Block[]);
    for (let r = 0; r < config.rounds; r++) {
      const sums = sessions.map(() => emptyBlock());
      for (let t = 0; t < config.turns; t++) {
        // One turn each, in an order rotated every turn: each session has the same gaps between
        // its turns, and no variant always follows the same one.
        for (let i = 0; i < sessions.length; i++) {
          const at = (i + t + r) % sessions.length;
          if (signal.aborted) throw new Error('the run is being stopped');
          addTo(sums[at]!, await sessions[at]!.block(1, next++));
        }
      }
      sums.forEach((b, i) => rounds[i]!.push(b));
      log(`[knobs]   round ${r + 1}/${config.rounds} done`);
    }
    const base = rounds[0]!;
    const variants = sessions.map((s, i) => figures(s, rounds[i]!, base));
    for (const s of sessions.splice(0)) await s.close();
    log(`[knobs] turns in flight: ${config.inFlight.sessions} sessions, ${config.inFlight.counts.join(' vs ')} in flight`);
    const inFlight = config.inFlight.rounds > 0 ? await runInFlight(config.inFlight.sessions, config.inFlight.counts, config.inFlight.rounds, config.inFlight.questions, run) : [];
    return { benchmark: 'knobs', config, binary: { path: claude.executable, version }, variants, inFlight, leftoverProcesses: leftovers(started, claude.executable).length };
  } finally {
    for (const s of sessions) s.kill();
    for (const pid of leftovers(started, claude.executable)) killGroup(pid);
    for (const u of undo.reverse()) await u();
  }
}

function emptyBlock(): Block {
  return { turns: 0, turnCpuSec: 0, clearCpuSec: 0, turnMs: 0, clearMs: 0, messages: 0, requests: 0, wrongAnswers: 0 };
}

function addTo(sum: Block, b: Block): void {
  for (const k of Object.keys(sum) as Array<keyof Block>) sum[k] += b[k];
}

/** Medians over rounds; a ratio is the variant's round over the baseline's same round. */
function figures(s: MeasuredSession, blocks: Block[], base: Block[]): VariantFigures {
  const per = (f: (b: Block) => number, scale = 1) => round(median(blocks.map((b) => (f(b) * scale) / b.turns)), 1);
  const ratio = (f: (b: Block) => number) => round(median(blocks.map((b, r) => f(b) / Math.max(1e-9, f(base[r]!)))), 2);
  return {
    name: s.variant.name,
    env: s.variant.env,
    turnCpuMs: per((b) => b.turnCpuSec, 1000),
    clearCpuMs: per((b) => b.clearCpuSec, 1000),
    turnMs: per((b) => b.turnMs),
    clearMs: per((b) => b.clearMs),
    messagesPerTurn: per((b) => b.messages),
    requestsPerTurn: per((b) => b.requests),
    turnCpuRatio: ratio((b) => b.turnCpuSec),
    clearCpuRatio: ratio((b) => b.clearCpuSec),
    startCpuMs: round(s.startCpuSec * 1000, 0),
    startMs: round(s.startMs, 0),
    wrongAnswers: blocks.reduce((n, b) => n + b.wrongAnswers, 0),
  };
}
