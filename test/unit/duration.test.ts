import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/shared/duration.js';

describe('formatDuration', () => {
  it.each([
    [0, '0.0s'], [0.46, '0.4s'], [9.99, '9.9s'], [10, '10s'], [59.9, '59s'], [60, '1m00s'], [754, '12m34s'],
    [3600, '1h00m'], [10_799, '2h59m'], [86_400, '1d00h'], [273_600, '3d04h'], [-5, '0.0s'], [Number.NaN, '?'],
  ])('compact: %s s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('in words, for sentences: rounded to the second, at most two units, zero units left out', () => {
    expect(formatDuration(40, 'words')).toBe('40 s');
    expect(formatDuration(89.6, 'words')).toBe('1 min');
    expect(formatDuration(3 * 3600, 'words')).toBe('3 h');
    expect(formatDuration(3 * 3600 - 60, 'words')).toBe('2 h 59 min');
    expect(formatDuration(50 * 3600, 'words')).toBe('2 d 2 h');
    expect(formatDuration(-5, 'words')).toBe('0 s');
  });
});
