/**
 * `compact` for tables, where the columns line up: 0.4s, 42s, 12m04s, 2h59m, 3d04h (floored).
 * `words` for sentences: 40 s, 2 h 59 min, 2 d 2 h (rounded to the second, zero units left out).
 */
export type DurationStyle = 'compact' | 'words';

/** A duration in seconds, for people (negative counts as 0; unknown is ?). */
export function formatDuration(seconds: number, style: DurationStyle = 'compact'): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, seconds);
  return style === 'compact' ? compact(s) : words(Math.round(s));
}

function compact(s: number): string {
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${two((s % 86_400) / 3600)}h`;
}

function words(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}
