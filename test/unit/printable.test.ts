import { describe, expect, it } from 'vitest';
import { printableLine, terminalSafeJson } from '../../src/shared/printable.js';

describe('text from Redis or the bridge, shown on a terminal', () => {
  it('printableLine: one plain line, cut with an ellipsis', () => {
    expect(printableLine('a\nb\u001b[2Jc\u202ed', 100)).toBe('a b [2Jc d');
    expect(printableLine('abcdef', 4)).toBe('abc…');
  });

  it('terminalSafeJson: the same value once parsed, with no raw DEL, C1 control or bidirectional override left in the text', () => {
    const value = { log: 'x\u009b2J\u007f\u202e\u2066y\u2028z', n: 1, nested: ['\u0085'] };
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(text)).toEqual(value);
    // JSON.stringify alone leaves them raw: what this is for.
    expect(JSON.stringify(value)).toMatch(/\u009b/);
  });
});
