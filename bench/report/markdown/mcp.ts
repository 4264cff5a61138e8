/** The MCP benchmark in bench/REPORT.md: its summary rows and its section. */
import type { McpResult } from '../../mcp.js';
import { cliOverMcp } from '../../mcp/format.js';
import type { Timing } from '../../numbers.js';
import { logNote, mdTable, ms, verdict } from './format.js';

const p50p95 = (t: Timing | null) => (t ? `${ms(t.p50)} / ${ms(t.p95)}` : '-');
const allOnce = (r: McpResult) => r.concurrent.answeredOnce === r.concurrent.asked && r.bridge.notOnce === 0 && r.wrongAnswers.mcp + r.wrongAnswers.cli === 0;

export function mcpSummary(r: McpResult): string[][] {
  const ratio = cliOverMcp(r);
  const once = allOnce(r);
  return [
    ['ask through `autopoll mcp`, one at a time, p50 / p95', p50p95(r.mcp), '', ''],
    ['the same with `autopoll ask` (a process a question), p50 / p95', `${p50p95(r.cli)}${ratio === null ? '' : ` (${ratio}x MCP's median)`}`, '', ''],
    [`${r.concurrent.asked} asks at once through one \`autopoll mcp\``, `${r.concurrent.seconds} s, ${r.concurrent.perSecond} q/s`, '', ''],
    ['every MCP and CLI question answered exactly once', once ? 'yes' : '**no**', 'yes', verdict(once)],
  ];
}

export function mcpSection(r: McpResult): string[] {
  const c = r.config;
  const k = r.concurrent;
  const { up, mcp } = r.logs;
  const note = logNote('the run', `\`up\` ${up.count}, \`autopoll mcp\` ${mcp.count}`, up.count + mcp.count, [...up.first, ...mcp.first]);
  const row = (what: string, t: Timing | null) => [what, String(t?.n ?? 0), ms(t?.p50), ms(t?.p95), ms(t?.max)];
  return [
    `On a private \`redis-server\` and a bridge file, \`autopoll up --answerer stub --stub-latency-ms 0 --sessions ${c.sessions} --role ${c.role}\` is the shard; ` +
      `\`autopoll mcp --bridge-db F --role ${c.role}\` is driven by the MCP SDK's client over stdio, as Claude Code runs it. ` +
      `${c.n} questions one at a time through MCP (after ${c.warmup} warm-up asks), the same ${c.n} with \`autopoll ask "..." --role ${c.role} --bridge-db F\` ` +
      `(a process a question: a new conversation each, the answer noticed by watching the bridge file), then ${k.asked} asks at once through the one server. ` +
      'Method: [README.md#mcp](README.md#mcp).',
    '',
    mdTable([
      ['figure', 'questions', 'p50', 'p95', 'max'],
      row('ask through `autopoll mcp`, `callTool` -> result', r.mcp),
      row('`autopoll ask`, spawn -> exit', r.cli),
      row(`${k.asked} asks at once, each \`callTool\` -> result`, k.perAsk),
    ]),
    '',
    `${k.asked} asks in flight at once: ${k.seconds} s wall, ${k.perSecond} q/s; ${k.answeredOnce} of ${k.asked} answered exactly once ` +
      `(their own \`Stub answer to <queryId>.\`, ${k.distinctQueryIds} distinct query ids, one query row and one response row each in the bridge). ` +
      `Over the run, ${r.bridge.questions} questions, ${r.bridge.notOnce} not exactly once; wrong answers one at a time: MCP ${r.wrongAnswers.mcp}, CLI ${r.wrongAnswers.cli}.`,
    '',
    ...(note ? [note, ''] : []),
  ];
}
