/**
 * The metric names a PromQL expression or a Grafana query variable reads, and whether a /metrics
 * page exports them: for test/integration/monitoring.test.ts, which holds the dashboard and the
 * Prometheus config to the names autopoll really exports.
 */

/** Words of PromQL's grammar that look like a metric name but are not one. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'start', 'end']);

/** Series Prometheus makes itself for every target; no exporter exports them. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/**
 * The metric names of `expr`: what is left once strings, label matchers, ranges, label lists
 * (`by (le)`) and Grafana variables are gone, less function names (followed by `(`) and keywords.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()/g)].map((m) => m[0]);
  return [...new Set(names.filter((n) => !KEYWORDS.has(n.toLowerCase())))];
}

/** A Grafana query variable's PromQL: `label_values(EXPR, label)` reads EXPR; `query_result(EXPR)` too. */
export function variableExpr(query: string): string {
  const m = /^\s*(?:label_values\(\s*(.+?)\s*,\s*\w+\s*\)|query_result\((.+)\))\s*$/s.exec(query);
  if (m) return m[1] ?? m[2]!;
  // label_values(label) and metrics(regex) name no metric.
  return /^\s*(?:label_values\(\s*\w+\s*\)|metrics\(.*\)|label_names\(.*\))\s*$/s.test(query) ? '' : query;
}

/** `# TYPE name type` of a Prometheus text page: every metric it exports, with or without samples yet. */
export function exportedTypes(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Whether `name` is a series of an exported metric: the metric itself, or a histogram's or summary's _bucket, _sum, _count. */
export function isExported(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = types.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}
