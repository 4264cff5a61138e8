/** A phase's count as it goes, and the PhaseResult it ends as. */
import type { PhaseResult } from '../claude.js';
import { round } from '../../test/support/numbers.js';
import { distribution } from '../numbers.js';

/** Answers and failures (the first few kept with their reason) and each question's time, ms. */
export class Tally {
  readonly times: number[] = [];
  readonly failures: string[] = [];
  answered = 0;
  failed = 0;
  stoppedBy: PhaseResult['stoppedBy'] = null;

  get done(): number {
    return this.answered + this.failed;
  }

  fail(why: string): void {
    this.failed++;
    if (this.failures.length < 5) this.failures.push(why);
  }
}

/** The phase's result; what only the pool measures, and the comparison with the baseline, are left empty. */
export function finishPhase(
  phase: string, sessions: number | null, planned: number, tally: Tally, totalSec: number, usage: Pick<PhaseResult, 'api' | 'cpu'>,
): PhaseResult {
  const done = tally.done;
  return {
    phase,
    sessions,
    planned,
    done,
    answered: tally.answered,
    failed: tally.failed,
    failures: tally.failures,
    stoppedBy: tally.stoppedBy,
    totalSec: round(totalSec, 2),
    secPerQuestion: done ? round(totalSec / done, 4) : null,
    speedup: null,
    target: null,
    questionMs: distribution(tally.times),
    startSec: null,
    closeSec: null,
    sessionsLaunched: null,
    sessionsReplaced: null,
    sessionExits: null,
    ...usage,
    logWarnings: 0,
    logErrors: 0,
    notable: [],
  };
}
