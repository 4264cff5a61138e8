/** Plain-text tables for the operator commands; pure, so their output is testable. */

/** Left-aligned columns, two spaces apart, no trailing spaces; every line starts with `indent`. */
export function renderTable(headers: string[], rows: string[][], indent = '  '): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}
