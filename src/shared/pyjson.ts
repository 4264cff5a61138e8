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
    return String(value);
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

function asciiString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
