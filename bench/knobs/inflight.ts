/**
 * Turns in flight versus sessions: one ClaudeAnswerer pool (sessionMemory none) started untimed,
 * then rounds that alternate how many questions are in flight at once (A B A B..., so the
 * machine's drift falls on both), each measuring wall time, latency per question and Claude
 * Code's CPU per question.
 */
import { ClaudeAnswerer } from '../../src/consumer/ClaudeAnswerer.js';
import { round } from '../../test/support/numbers.js';
import { PhaseMeter } from '../claude/meter.js';
import { LogCounter } from '../claude/poolLog.js';
import { answersItsQuestion, question } from '../claude/questions.js';
import type { ClaudeRun } from '../claude/setup.js';
import { throwIfStopped, withDeadline } from '../claude/stopping.js';
import { distribution, type Distribution } from '../numbers.js';

export interface InFlightRun {
  inFlight: number;
  round: number;
  questions: number;
  wrong: number;
  secPerQuestion: number;
  questionMs: Distribution | null;
  claudeMsPerQuestion: number | null;
  machineMsPerQuestion: number | null;
}

export async function runInFlight(sessions: number, inFlights: readonly number[], rounds: number, questions: number, run: ClaudeRun): Promise<InFlightRun[]> {
  const logs = new LogCounter();
  const answerer = new ClaudeAnswerer(
    {
      sessions,
      model: run.config.model,
      turnTimeoutSec: run.config.turnTimeoutSec,
      maxTurnsPerSession: 1_000_000,
      maxContextTokens: run.config.maxContextTokens,
      sessionMemory: 'none',
      env: run.env,
      executable: run.config.executable,
    },
    logs.logger,
  );
  const out: InFlightRun[] = [];
  try {
    await withDeadline(answerer.start(), 120_000, `the pool of ${sessions} to start`);
    for (const pid of answerer.pool.pids()) run.started.add(pid);
    let next = 1_000_000;
    for (let r = 0; r < rounds; r++) {
      for (const inFlight of inFlights) {
        throwIfStopped(run.signal);
        const meter = new PhaseMeter(run.api, () => answerer.pool.pids());
        const times: number[] = [];
        let left = questions;
        let wrong = 0;
        const ctx = { attempt: 1, replay: false, signal: new AbortController().signal, log: () => undefined, progress: () => undefined };
        meter.start();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (left-- > 0) {
              const q = question(next++);
              const t = performance.now();
              const a = await withDeadline(answerer.answer(q, ctx), (run.config.turnTimeoutSec + 30) * 1000, `the answer to ${q.queryId}`);
              times.push(performance.now() - t);
              if (!answersItsQuestion(a.answer, q.queryId)) wrong++;
            }
          }),
        );
        const wallSec = (performance.now() - t0) / 1000;
        const usage = meter.stop(questions);
        out.push({
          inFlight,
          round: r,
          questions,
          wrong,
          secPerQuestion: round(wallSec / questions, 3),
          questionMs: distribution(times),
          claudeMsPerQuestion: usage.cpu.claudeMsPerQuestion,
          machineMsPerQuestion: usage.cpu.machineMsPerQuestion,
        });
        run.log(`[knobs]   ${sessions} sessions, ${inFlight} in flight, round ${r + 1}: ${round(wallSec / questions, 3)} s/question, Claude ${usage.cpu.claudeMsPerQuestion} ms CPU/question`);
      }
    }
    return out;
  } finally {
    for (const pid of answerer.pool.pids()) run.started.add(pid);
    await answerer.close();
  }
}
