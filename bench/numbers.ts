/** The figures of a benchmark: percentiles, plain text tables, integer knobs from the environment. */
import { round } from '../test/support/numbers.js';

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank `p`th percentile of values sorted ascending (not empty). */
export function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Nearest-rank percentiles, in the unit of the values, rounded to 0.1. */
export function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => nearestRank(sorted, p);
  return {
    n: sorted.length,
    min: round(sorted[0]!, 1),
    p50: round(at(50), 1),
    p90: round(at(90), 1),
    p99: round(at(99), 1),
    max: round(sorted[sorted.length - 1]!, 1),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length, 1),
  };
}

/** Times (ms) as a user feels them: the median, the slow tail and the worst. */
export interface Timing {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank p50, p95 and max, rounded to 0.1. */
export function timing(values: number[]): Timing | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(nearestRank(sorted, 50), 1),
    p95: round(nearestRank(sorted, 95), 1),
    max: round(sorted[sorted.length - 1]!, 1),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length, 1),
  };
}

/** A plain text table: first row is the header; columns left-aligned, padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (cell ?? '').padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
