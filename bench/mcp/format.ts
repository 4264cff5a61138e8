/** The MCP benchmark's printed report: each figure with what it means. */
import type { McpResult } from '../mcp.js';
import { table, type Timing } from '../numbers.js';

const ms = (t: Timing | null, at: 'p50' | 'p95' | 'max') => (t ? `${t[at]} ms` : '-');
const row = (what: string, t: Timing | null) => [what, String(t?.n ?? 0), ms(t, 'p50'), ms(t, 'p95'), ms(t, 'max')];

/** How many times longer the CLI's median is than MCP's; null when either is missing. */
export function cliOverMcp(r: McpResult): number | null {
  return r.mcp && r.cli && r.mcp.p50 > 0 ? Math.round((r.cli.p50 / r.mcp.p50) * 10) / 10 : null;
}

export function formatMcp(r: McpResult): string {
  const c = r.concurrent;
  const ratio = cliOverMcp(r);
  const rows: string[][] = [
    ['figure', 'questions', 'p50', 'p95', 'max'],
    row('ask through `autopoll mcp`, callTool -> result', r.mcp),
    row('`autopoll ask` (CLI), spawn -> exit', r.cli),
    row(`${c.asked} asks at once, each callTool -> result`, c.perAsk),
  ];
  const notes = [
    `one at a time after ${r.config.warmup} warm-up asks, ${r.config.n} questions each way; shard: \`up --answerer stub --stub-latency-ms 0 --sessions ${r.config.sessions}\` (up started in ${r.upStartSec} s).`,
    `the CLI's median is ${ratio ?? '-'}x MCP's: each \`autopoll ask\` starts node, opens the bridge file and creates a conversation (the shard takes it up at that commit);`,
    '  both notice the answer by watching the bridge file, and the MCP server keeps one conversation for all its asks.',
    `wrong or missing answers: MCP ${r.wrongAnswers.mcp}, CLI ${r.wrongAnswers.cli} (each answer must be \`Stub answer to <its queryId>.\`).`,
    `concurrency: ${c.asked} asks in flight through one server took ${c.seconds} s wall, ${c.perSecond} q/s; ${c.answeredOnce} of ${c.asked} answered exactly once ` +
      `(${c.distinctQueryIds} distinct query ids, ${c.conversations} conversation${c.conversations === 1 ? '' : 's'}, ${c.wrongAnswers} wrong answers).`,
    `bridge: ${r.bridge.questions} questions asked in the run, ${r.bridge.notOnce} without exactly one query row and one response row${r.bridge.notOnceSample.length ? ` (${r.bridge.notOnceSample.join(', ')})` : ''}.`,
  ];
  for (const [who, l] of Object.entries(r.logs)) if (l.count) notes.push(`${who}: ${l.count} log line(s) at warn or error; first: ${l.first.join('; ')}`);
  return [table(rows), '', ...notes.map((n) => `  ${n}`)].join('\n');
}
