/**
 * A pool phase: ClaudeAnswerer with N sessions (sessionMemory none), started and warmed untimed,
 * then the questions through answer(), as many in flight as sessions, until they or the time
 * budget run out; then the pool is closed.
 */
import { ClaudeAnswerer } from '../../src/consumer/ClaudeAnswerer.js';
import type { PhaseResult } from '../claude.js';
import { round } from '../../test/support/numbers.js';
import { cleanup } from '../cleanup.js';
import { PhaseMeter } from './meter.js';
import { LogCounter } from './poolLog.js';
import { answersItsQuestion, question } from './questions.js';
import type { ClaudeRun } from './setup.js';
import { DeadlineError, throwIfStopped, withDeadline } from './stopping.js';
import { finishPhase, Tally } from './tally.js';

export async function runPool(sessions: number, run: ClaudeRun): Promise<PhaseResult> {
  const { config, log, signal, started } = run;
  throwIfStopped(signal);
  const logs = new LogCounter();
  const answerer = new ClaudeAnswerer(
    {
      sessions,
      model: config.model,
      turnTimeoutSec: config.turnTimeoutSec,
      maxTurnsPerSession: config.maxTurnsPerSession,
      maxContextTokens: config.maxContextTokens,
      sessionMemory: 'none',
      toolsRoot: run.toolsRoot,
      env: run.env,
      executable: config.executable,
    },
    logs.logger,
  );
  const pool = answerer.pool;
  const launches = countLaunches(pool, started);
  const undoClose = cleanup.add(`close the Claude pool (${sessions} sessions)`, async () => {
    for (const pid of pool.pids()) started.add(pid);
    await answerer.close();
  });

  try {
    log(`[claude] pool of ${sessions}: starting (not timed)`);
    const s0 = performance.now();
    await withDeadline(answerer.start(), 120_000, `the pool of ${sessions} to start`);
    throwIfStopped(signal);
    const startSec = round((performance.now() - s0) / 1000, 2);
    for (const pid of pool.pids()) started.add(pid);
    const launchedAtStart = launches.launched;
    const replacedAtStart = { ...launches.replaced };
    log(`[claude]   started in ${startSec} s; ${config.n} questions, ${sessions} in flight (time budget ${config.poolBudgetSec} s)`);

    const { tally, totalSec, usage } = await answerAll(answerer, sessions, run);
    const replacedInPhase = countsSince(launches.replaced, replacedAtStart);

    const c0 = performance.now();
    for (const pid of pool.pids()) started.add(pid);
    await undoClose();
    const closeSec = round((performance.now() - c0) / 1000, 2);

    const phase = finishPhase(`pool of ${sessions}`, sessions, config.n, tally, totalSec, usage);
    phase.startSec = startSec;
    phase.closeSec = closeSec;
    phase.sessionsLaunched = launches.launched - launchedAtStart;
    phase.sessionsReplaced = replacedInPhase;
    phase.sessionExits = logs.sessionExits;
    phase.logWarnings = logs.warnings;
    phase.logErrors = logs.errors;
    phase.notable = logs.notable;
    log(`[claude]   ${phase.done} questions in ${phase.totalSec} s: ${phase.secPerQuestion} s per question; closed in ${closeSec} s`);
    return phase;
  } finally {
    await undoClose();
  }
}

/** Sessions the pool launched, and replaced by reason, counted from its events; their pids go into `started`. */
function countLaunches(pool: ClaudeAnswerer['pool'], started: Set<number>): { launched: number; replaced: Record<string, number> } {
  const counts = { launched: 0, replaced: {} as Record<string, number> };
  pool.on('sessionStarted', (s) => {
    counts.launched++;
    if (s.pid) started.add(s.pid);
  });
  pool.on('sessionReplaced', (s) => (counts.replaced[s.reason] = (counts.replaced[s.reason] ?? 0) + 1));
  return counts;
}

/** The counts that grew since `before`, by how much. */
function countsSince(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const grown: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v - (before[k] ?? 0) > 0) grown[k] = v - (before[k] ?? 0);
  return grown;
}

/** The timed part: one worker per session hands out the questions until they or the time budget run out. */
async function answerAll(answerer: ClaudeAnswerer, sessions: number, run: ClaudeRun): Promise<{ tally: Tally; totalSec: number; usage: Pick<PhaseResult, 'api' | 'cpu'> }> {
  const { config, signal } = run;
  const tally = new Tally();
  let next = 0;
  const abort = new AbortController();
  const ctx = { attempt: 1, replay: false, signal: abort.signal, log: () => undefined, progress: () => undefined };
  // A turn is bounded by the pool's own timeout; this one only keeps the bench from hanging.
  const hardLimitMs = (config.turnTimeoutSec + 30) * 1000;
  const meter = new PhaseMeter(run.api, () => answerer.pool.pids());
  meter.start();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (next < config.n) {
        if (signal.aborted) return;
        if (performance.now() - t0 > config.poolBudgetSec * 1000) {
          tally.stoppedBy = 'time budget';
          return;
        }
        const q = question(next++);
        const t = performance.now();
        try {
          const r = await withDeadline(answerer.answer(q, ctx), hardLimitMs, `the answer to ${q.queryId}`);
          tally.times.push(performance.now() - t);
          if (answersItsQuestion(r.answer, q.queryId)) tally.answered++;
          else tally.fail(`${q.queryId}: wrong answer: ${r.answer.slice(0, 200)}`);
        } catch (err) {
          tally.times.push(performance.now() - t);
          tally.fail(`${q.queryId}: ${err instanceof Error ? err.message : String(err)}`);
          if (err instanceof DeadlineError) return; // that session is stuck; its worker stops
        }
      }
    }),
  );
  throwIfStopped(signal);
  const totalSec = (performance.now() - t0) / 1000;
  const usage = meter.stop(tally.done);
  abort.abort();
  return { tally, totalSec, usage };
}
