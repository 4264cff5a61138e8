/** The capacity benchmark's derived figures: pure functions of what each size measured. */
import { round } from '../../test/support/numbers.js';
import type { CapacitySize } from '../capacity.js';

/** The size the floor is set at: its speed-up over the baseline is held to the target. */
export const FLOOR_SESSIONS = 32;

/**
 * Each size with its ideal (sessions / (latency + the per-question overhead measured with one
 * session)), its speed-up over the baseline's q/s and, at FLOOR_SESSIONS, the target. Without a
 * one-session size there is no measured overhead, and no ideal.
 */
export function withIdeal(sizes: CapacitySize[], baselineQps: number | null, latencyMs: number, target: number): { overheadSec: number | null; sizes: CapacitySize[] } {
  const one = sizes.find((s) => s.sessions === 1 && s.questionsPerSec > 0);
  const perQuestionSec = one ? 1 / one.questionsPerSec : null;
  const overheadSec = perQuestionSec === null ? null : round(Math.max(0, perQuestionSec - latencyMs / 1000), 3);
  return {
    overheadSec,
    sizes: sizes.map((s) => ({
      ...s,
      idealQps: overheadSec === null ? null : round(s.sessions / (latencyMs / 1000 + overheadSec), 2),
      speedup: baselineQps ? round(s.questionsPerSec / baselineQps, 1) : null,
      target: s.sessions === FLOOR_SESSIONS ? target : null,
    })),
  };
}

/** Every answer exactly once, none an error or naming another question, the ledger agreeing. */
export function sizeAnsweredOnce(s: CapacitySize): boolean {
  const c = s.check;
  return c.notOnceCount === 0 && c.responseRows === s.questions && c.errorResponses === 0 && c.wrongAnswers === 0 && c.ledgerWrong === 0;
}
