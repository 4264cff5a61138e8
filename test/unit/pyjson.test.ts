import { describe, expect, it } from 'vitest';
import { pyJsonDumps } from '../../src/bridge/pyjson.js';
import { runPython } from './python.js';

const allControls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('');

/** Values to compare with Python (integer-valued floats excluded: JavaScript has no float type). */
const VALUES: unknown[] = [
  'plain ascii',
  '',
  'quotes " and \' and backslash \\ and slash / and </script>',
  allControls,
  '\u007f DEL and \u0080 and \u009f',
  'é ñ ü ß — “smart” ‘quotes’ …',
  '中文 日本語 한국어',
  'emoji 😀 and astral 𝄞 and flag 🇫🇷',
  'lone high \ud800 and lone low \udc00 surrogates',
  '\u2028 line sep \u2029 para sep \ufeff BOM \uffff',
  'tab\tnewline\ncr\rformfeed\fbackspace\b',
  0,
  -1,
  42,
  2 ** 53,
  -(2 ** 31),
  19.2,
  0.5,
  -1.25,
  3.141592653589793,
  0.1 + 0.2,
  1e300,
  1e21,
  0.00001,
  1.5e-7,
  -2.5e-10,
  0.0001,
  1.2345e16,
  123456789012345.6,
  true,
  false,
  null,
  [],
  {},
  [1, 'two', [3, [4, []]], { five: 5 }, null, true],
  { type: 'response', query_id: 'q_12345', answer: 'The answer is … (SESSION-RESUME.md:82-86)', sources: ['SESSION-RESUME.md:82-86'], shard_id: 'autopoll_shard', response_time_sec: 19.2 },
  { 'clé ünïcode': 'välue', 'emoji 😀': ['😀'], '"quoted\\key"': { '': '' }, nested: { a: { b: { c: [{}] } } } },
  { action_type: 'response' },
];

describe('pyJsonDumps', () => {
  it('equals Python json.dumps(value) with default arguments, byte for byte', () => {
    const expected = runPython('out = [json.dumps(v) for v in data]', VALUES) as string[];
    expect(expected).toHaveLength(VALUES.length);
    VALUES.forEach((value, i) => {
      expect(pyJsonDumps(value), `value #${i}: ${JSON.stringify(value)}`).toBe(expected[i]);
    });
  });

  it('equals json.dumps for the whole list at once', () => {
    const expected = runPython('out = json.dumps(data)', VALUES) as string;
    expect(pyJsonDumps(VALUES)).toBe(expected);
  });

  it('writes ASCII only, so length equals the Python len() of the text', () => {
    const text = pyJsonDumps({ s: 'é😀\u007f\u2028' });
    expect(text).toBe('{"s": "\\u00e9\\ud83d\\ude00\\u007f\\u2028"}');
    expect(/^[\x20-\x7e]*$/.test(text)).toBe(true);
  });

  it('uses ", " and ": " separators', () => {
    expect(pyJsonDumps({ a: [1, 2], b: { c: null } })).toBe('{"a": [1, 2], "b": {"c": null}}');
  });

  it('skips object properties whose value is undefined, as JSON.stringify does', () => {
    expect(pyJsonDumps({ a: 1, b: undefined, c: 'x', d: undefined })).toBe('{"a": 1, "c": "x"}');
    expect(pyJsonDumps({ only: undefined })).toBe('{}');
    expect(pyJsonDumps({ outer: { inner: undefined, kept: false } })).toBe('{"outer": {"kept": false}}');
  });

  it('parses back to the same value', () => {
    for (const value of VALUES) expect(JSON.parse(pyJsonDumps(value))).toEqual(value);
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => pyJsonDumps(Number.NaN)).toThrow(TypeError);
    expect(() => pyJsonDumps(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => pyJsonDumps(10n)).toThrow(TypeError);
    expect(() => pyJsonDumps(() => 1)).toThrow(TypeError);
  });
});
