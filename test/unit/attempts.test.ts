import { describe, expect, it } from 'vitest';
import { attemptsSpent, closingMarks, runOf } from '../../src/shared/attempts.js';

describe('attemptsSpent', () => {
  it('counts every start except the rate-limit hand-backs, at least 1', () => {
    expect(attemptsSpent({ attemptsStarted: 3, data: {} })).toBe(3);
    expect(attemptsSpent({ attemptsStarted: 5, data: { deferrals: 3 } })).toBe(2);
    expect(attemptsSpent({ attemptsStarted: 0, data: null })).toBe(1);
    expect(attemptsSpent({ attemptsStarted: 4, data: { deferrals: 'x' } })).toBe(4);
    expect(attemptsSpent({ attemptsStarted: 4, data: { deferrals: '2' } })).toBe(4);
  });
});

describe('runOf (replay rounds)', () => {
  it('counts attempts within the round, after the starts of earlier rounds', () => {
    expect(attemptsSpent({ attemptsStarted: 7, data: { priorAttempts: 5, deferrals: 1 } })).toBe(1);
    expect(runOf({ attemptsStarted: 2, data: {} }, 3)).toEqual({ attempt: 2, replay: false, round: 0 });
    expect(runOf({ attemptsStarted: 3, data: {} }, 3)).toEqual({ attempt: 3, replay: false, round: 0 });
    expect(runOf({ attemptsStarted: 6, data: { replay: true, priorAttempts: 5 } }, 3)).toEqual({ attempt: 1, replay: true, round: 5 });
  });

  it('a job retried past its budget without marks (BullMQ failed it for stalling) opens a replay round', () => {
    expect(runOf({ attemptsStarted: 4, data: {} }, 3)).toEqual({
      attempt: 1,
      replay: true,
      round: 3,
      opens: { replay: true, priorAttempts: 3, deferrals: 0, startFailures: 0 },
    });
    // Once those marks are saved, the next try of the same round is attempt 2, not another new round.
    expect(runOf({ attemptsStarted: 5, data: { replay: true, priorAttempts: 3, deferrals: 0 } }, 3)).toEqual({ attempt: 2, replay: true, round: 3 });
  });

  it('closingMarks make the next start attempt 1 of a replay round', () => {
    const before = { deferrals: 4, startFailures: 5 };
    const data = { ...before, ...closingMarks({ attemptsStarted: 2 }) };
    expect(data.deferrals).toBe(0);
    // The new round's session start failures are handed back again (failureDecision.ts).
    expect(data.startFailures).toBe(0);
    expect(runOf({ attemptsStarted: 3, data }, 5)).toEqual({ attempt: 1, replay: true, round: 2 });
  });
});
