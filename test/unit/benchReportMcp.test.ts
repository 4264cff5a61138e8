import { describe, expect, it } from 'vitest';
import type { McpResult } from '../../bench/mcp.js';
import { formatMcp } from '../../bench/mcp/format.js';
import { renderReport, type ReportInput } from '../../bench/report/markdown.js';

const timing = (p50: number, p95: number, n = 30) => ({ n, p50, p95, max: p95 + 10, mean: p50 });

const MCP: McpResult = {
  benchmark: 'mcp',
  config: { n: 30, warmup: 3, concurrent: 50, sessions: 16, role: 'bench_mcp_shard' },
  upStartSec: 3.5,
  mcp: timing(250, 260),
  cli: timing(2000, 2400),
  wrongAnswers: { mcp: 0, cli: 0 },
  concurrent: { asked: 50, seconds: 0.2, perSecond: 250, perAsk: timing(150, 190, 50), distinctQueryIds: 50, conversations: 1, wrongAnswers: 0, answeredOnce: 50 },
  bridge: { questions: 113, notOnce: 0, notOnceSample: [] },
  logs: { up: { count: 0, first: [] }, mcp: { count: 1, first: ['cannot watch the bridge folder; relying on the poll'] } },
};

const report = (mcp: McpResult | null): string => {
  const input: ReportInput = {
    generatedAt: '2026-12-07T14:00:00.000Z', command: 'npm run bench', environment: null, environmentFrom: 'none',
    pipeline: null, claude: null, scale: null, capacity: null, soak: null, charts: {}, mcp,
  };
  return renderReport(input);
};

describe('the MCP benchmark in the report', () => {
  it('shows MCP and the CLI side by side, the concurrent run, and whether every question was answered once', () => {
    const lines = report(MCP).split('\n');
    expect(lines).toContain('| ask through `autopoll mcp`, one at a time, p50 / p95 | 250 ms / 260 ms |  |  |');
    expect(lines).toContain("| the same with `autopoll ask` (a process a question), p50 / p95 | 2,000 ms / 2,400 ms (8x MCP's median) |  |  |");
    expect(lines).toContain('| 50 asks at once through one `autopoll mcp` | 0.2 s, 250 q/s |  |  |');
    expect(lines).toContain('| every MCP and CLI question answered exactly once | yes | yes | met |');
    expect(lines).toContain('## MCP: ask through `autopoll mcp` vs `autopoll ask`');
    const missed = report({ ...MCP, concurrent: { ...MCP.concurrent, answeredOnce: 49 } }).split('\n');
    expect(missed).toContain('| every MCP and CLI question answered exactly once | **no** | yes | **missed** |');
  });

  it('says how to measure it when absent', () => {
    expect(report(null).split('\n')).toContain('| ask through `autopoll mcp` | not measured in this run: run `npm run bench -- mcp` |  |  |');
  });

  it('prints the figures with what they mean', () => {
    const text = formatMcp(MCP);
    expect(text).toContain("the CLI's median is 8x MCP's");
    expect(text).toContain('50 of 50 answered exactly once');
    expect(text).toContain('mcp: 1 log line(s) at warn or error; first: cannot watch the bridge folder; relying on the poll');
    expect(text).not.toContain('up: 0');
  });
});
