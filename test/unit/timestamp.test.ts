import { describe, expect, it } from 'vitest';
import { bridgeNow, formatBridgeTimestamp, nowMicros, parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import { runPython } from './python.js';

// 2026-11-22T01:58:36.769836, the example in PROTOCOL.md.
const EXAMPLE = Date.UTC(2026, 10, 22, 1, 58, 36) * 1000 + 769_836;

const SAMPLES: number[] = [
  0, // the epoch itself: no fraction
  1, // smallest fraction: .000001
  999_999,
  1_000_000,
  EXAMPLE,
  EXAMPLE - 769_836, // microsecond == 0
  EXAMPLE - 769_836 + 1000, // exactly one millisecond: .001000
  EXAMPLE - 769_836 + 999, // .000999
  EXAMPLE - 769_836 + 10, // .000010
  EXAMPLE - 769_836 + 100_000, // .100000: trailing zeros kept
  Date.UTC(2024, 1, 29, 23, 59, 59) * 1000 + 999_999, // leap day, last microsecond
  Date.UTC(2038, 0, 19, 3, 14, 8) * 1000 + 500_000, // past the 32-bit seconds limit
  Date.UTC(2099, 11, 31, 23, 59, 59) * 1000 + 123_456,
  Date.UTC(2000, 0, 1) * 1000, // midnight, microsecond == 0
  1_763_776_716_000_001,
  1_763_776_716_999_000,
];

describe('formatBridgeTimestamp', () => {
  it('formats the PROTOCOL.md example', () => {
    expect(formatBridgeTimestamp(EXAMPLE)).toBe('2026-11-22T01:58:36.769836');
  });

  it('equals Python datetime.isoformat() for naive UTC datetimes, byte for byte', () => {
    const expected = runPython(
      [
        'from datetime import datetime, timedelta',
        'out = [(datetime(1970, 1, 1) + timedelta(microseconds=m)).isoformat() for m in data]',
      ].join('\n'),
      SAMPLES,
    ) as string[];
    expect(expected).toHaveLength(SAMPLES.length);
    expect(SAMPLES.map(formatBridgeTimestamp)).toEqual(expected);
  });

  it('has no Z, no offset and six fraction digits, or none when microsecond is 0', () => {
    expect(formatBridgeTimestamp(EXAMPLE - 769_836)).toBe('2026-11-22T01:58:36');
    expect(formatBridgeTimestamp(EXAMPLE - 769_836 + 1)).toBe('2026-11-22T01:58:36.000001');
    expect(formatBridgeTimestamp(EXAMPLE - 769_836 + 1000)).toBe('2026-11-22T01:58:36.001000');
    for (const m of SAMPLES) {
      expect(formatBridgeTimestamp(m)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
    }
  });
});

describe('parseBridgeTimestamp', () => {
  it('round-trips every formatted stamp to the same microsecond', () => {
    for (const m of SAMPLES) expect(parseBridgeTimestamp(formatBridgeTimestamp(m))).toBe(m);
    let seed = 12345;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const m = EXAMPLE + seed * 997;
      expect(parseBridgeTimestamp(formatBridgeTimestamp(m))).toBe(m);
    }
  });

  it('reads fractions of any precision up to microseconds', () => {
    const base = Date.UTC(2026, 10, 22, 1, 58, 36) * 1000;
    expect(parseBridgeTimestamp('2026-11-22T01:58:36')).toBe(base);
    expect(parseBridgeTimestamp('2026-11-22T01:58:36.7')).toBe(base + 700_000);
    expect(parseBridgeTimestamp('2026-11-22T01:58:36.769')).toBe(base + 769_000);
    expect(parseBridgeTimestamp('2026-11-22T01:58:36.769836')).toBe(base + 769_836);
  });

  it('refuses other formats', () => {
    for (const text of [
      '',
      '2026-11-22',
      '2026-11-22 01:58:36.769836', // space instead of T
      '2026-11-22T01:58:36Z',
      '2026-11-22T01:58:36.769836Z',
      '2026-11-22T01:58:36+00:00',
      '2026-11-22T01:58:36.7698361', // seven digits
      '2026-11-22T01:58:36.',
      '2026-13-01T00:00:00', // month 13
      'not a time',
    ]) {
      expect(parseBridgeTimestamp(text), text).toBeUndefined();
    }
  });
});

describe('nowMicros and bridgeNow', () => {
  it('is strictly increasing over many calls', () => {
    let previous = nowMicros();
    let violations = 0;
    for (let i = 0; i < 200_000; i++) {
      const next = nowMicros();
      if (!(next > previous)) violations++;
      if (!Number.isSafeInteger(next)) violations++;
      previous = next;
    }
    expect(violations).toBe(0);
  });

  it('follows the wall clock', () => {
    const before = Date.now() * 1000;
    const m = nowMicros();
    // The monotonic bump may run ahead of the wall clock after a burst of calls, but not by much.
    expect(m).toBeGreaterThanOrEqual(before);
    expect(m - before).toBeLessThan(5_000_000);
  });

  it('bridgeNow gives parseable stamps in increasing text order', () => {
    const stamps = Array.from({ length: 5000 }, () => bridgeNow());
    for (let i = 1; i < stamps.length; i++) {
      expect(stamps[i]! > stamps[i - 1]!).toBe(true);
    }
    for (const s of stamps) expect(parseBridgeTimestamp(s)).toBeTypeOf('number');
  });
});

describe('text order of formatted stamps', () => {
  it('matches numeric order, even around stamps whose microsecond is 0', () => {
    // Python drops ".000000", so "...:36" is shorter than "...:36.000001"; as a prefix it still
    // sorts first, and "...:35.999999" sorts before it on the seconds digit. So the quirk does not
    // break text order: check it around many whole seconds and on random values.
    const values: number[] = [];
    for (let s = 0; s < 200; s++) {
      const whole = EXAMPLE - 769_836 + s * 1_000_000 + (s % 7) * 60_000_000;
      values.push(whole - 1, whole, whole + 1, whole + 10, whole + 999_999);
    }
    let seed = 99;
    for (let i = 0; i < 3000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      values.push(EXAMPLE + seed * 13);
    }
    const unique = [...new Set(values)];
    const byNumber = [...unique].sort((a, b) => a - b).map(formatBridgeTimestamp);
    // Default sort compares UTF-16 code units, which for ASCII is SQLite's BINARY (memcmp) order.
    const byText = unique.map(formatBridgeTimestamp).sort();
    expect(byText).toEqual(byNumber);
  });

  it('puts the fraction-less stamp between its neighbours', () => {
    const whole = EXAMPLE - 769_836;
    const [before, at, after] = [whole - 1, whole, whole + 1].map(formatBridgeTimestamp);
    expect(at).toBe('2026-11-22T01:58:36');
    expect(before).toBe('2026-11-22T01:58:35.999999');
    expect(after).toBe('2026-11-22T01:58:36.000001');
    expect(before! < at!).toBe(true);
    expect(at! < after!).toBe(true);
  });
});
