/**
 * JSON text as Python's `json.dumps` writes it with its defaults: `", "` and `": "` separators and
 * `ensure_ascii=True` (every non-ASCII code unit as `\uXXXX`). The bridge's own clients are
 * Python, so rows written this way are the bytes the shard it replaces would have written.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return asciiString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`pyJsonDumps: ${value} is not JSON`);
    return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      parts.push(`${asciiString(k)}: ${pyJsonDumps(v)}`);
    }
    return `{${parts.join(', ')}}`;
  }
  throw new TypeError(`pyJsonDumps: ${typeof value} is not JSON`);
}

/**
 * Python's float repr: the same shortest digits as JavaScript, but in exponent form below 1e-4
 * and from 1e16 on, with a sign and at least two exponent digits (1e-05, 1.5e+16).
 */
function pyFloatRepr(n: number): string {
  const [mantissa, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e >= -4 && e < 16) return String(n);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function asciiString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
