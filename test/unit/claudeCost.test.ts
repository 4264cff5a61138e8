import { describe, expect, it } from 'vitest';
import { roundUsd } from '../../src/consumer/claude/cost.js';

describe('roundUsd', () => {
  it('drops the float noise of a sum: what the API bills', () => {
    expect(roundUsd(0.0012345000000000001)).toBe(0.0012345);
    expect(String(roundUsd(0.1 + 0.2))).toBe('0.3');
    // A turn's cost is the session's running total minus the one before: a difference of float sums.
    expect(String(roundUsd(0.0000599 + 0.0000013 - 0.0000013))).toBe('0.0000599');
  });

  it('keeps every digit a price can have: a billionth of a dollar', () => {
    // 1 input token of a model at $0.08/MTok with a 1.1x multiplier: 8.8e-8 USD.
    expect(roundUsd(8.8e-8)).toBe(8.8e-8);
    expect(roundUsd(123.456789012)).toBe(123.456789012);
    expect(roundUsd(0)).toBe(0);
  });

  it('rounds below a billionth to the nearest', () => {
    expect(roundUsd(1.4e-10)).toBe(0);
    expect(roundUsd(2.6e-9 + 1e-12)).toBe(3e-9);
  });
});
