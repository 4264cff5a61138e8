import { describe, expect, it } from 'vitest';
import { exportedTypes, isExported, metricNames, variableExpr } from '../support/promql.js';

describe('metricNames', () => {
  it('finds the metrics of an expression, not its functions, labels, ranges, variables or keywords', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(autopoll_answer_latency_seconds_bucket{job=~"$job", instance=~"$instance"}[$__rate_interval])))')).toEqual(['autopoll_answer_latency_seconds_bucket']);
    expect(metricNames('sum(rate(a_total[5m] offset 1h)) / on (job) group_left (x) b_count * 3600 > bool 1e3')).toEqual(['a_total', 'b_count']);
    expect(metricNames('sum without (state) (autopoll_claude_sessions{state="busy"}) or vector(0)')).toEqual(['autopoll_claude_sessions']);
    expect(metricNames('up{job="a{b}"} and ignoring(le) x:recorded:rate5m')).toEqual(['up', 'x:recorded:rate5m']);
    expect(metricNames('max(autopol_typo) unless sum(${other}[1m:30s])')).toEqual(['autopol_typo']);
  });
});

describe('variableExpr', () => {
  it("is the PromQL a Grafana query variable reads", () => {
    expect(variableExpr('label_values(autopoll_x{job=~"$job"}, instance)')).toBe('autopoll_x{job=~"$job"}');
    expect(variableExpr('label_values(job)')).toBe('');
    expect(variableExpr('query_result(sum by (job) (autopoll_y))')).toBe('sum by (job) (autopoll_y)');
  });
});

describe('isExported', () => {
  const types = exportedTypes('# HELP a_total A\n# TYPE a_total counter\na_total 3\n# TYPE h_seconds histogram\n# TYPE s summary\n');
  it('knows the metrics of the page, with or without samples, and the series of its histograms and summaries', () => {
    expect(isExported('a_total', types)).toBe(true);
    expect(isExported('h_seconds_bucket', types)).toBe(true);
    expect(isExported('h_seconds_sum', types)).toBe(true);
    expect(isExported('s_count', types)).toBe(true);
    expect(isExported('s_bucket', types)).toBe(false);
    expect(isExported('a_total_count', types)).toBe(false);
    expect(isExported('a', types)).toBe(false);
    expect(isExported('h_seconds_total', types)).toBe(false);
  });
});
