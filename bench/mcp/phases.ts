/**
 * The MCP benchmark's phases: asks through `autopoll mcp` one at a time and many at once, the same
 * questions with `autopoll ask` (a process a question), and the bridge check that every question
 * is there once and answered once.
 */
import { z } from 'zod';
import type { BridgeFixture } from '../../test/support/bridge.js';
import { runAutopoll } from '../../test/support/cli.js';
import type { McpSession } from '../../test/support/mcpClient.js';
import { round } from '../../test/support/numbers.js';
import { timing, type Timing } from '../numbers.js';

/** One question's outcome as its asker saw it, and how long the asker waited, ms. */
export interface Answered {
  queryId: string;
  status: string;
  answer: string | null;
  ms: number;
}

export interface ConcurrentRun {
  asked: number;
  /** First `callTool` -> the last result. */
  seconds: number;
  perSecond: number;
  /** Each call's own `callTool` -> result, ms. */
  perAsk: Timing | null;
  distinctQueryIds: number;
  conversations: number;
  /** Results not `answered` with `Stub answer to <queryId>.`. */
  wrongAnswers: number;
  /** Right answer, query id unique among the results, one query row and one response row in the bridge. */
  answeredOnce: number;
}

export interface OnceCheck {
  questions: number;
  /** Questions without exactly one query row and one response row; the first few as `id: queries/responses`. */
  notOnce: number;
  notOnceSample: string[];
}

const ToolResult = z.object({ queryId: z.string(), status: z.string(), answer: z.string().optional(), conversationId: z.string().optional() });
const CliResult = z.object({ queryId: z.string(), response: z.object({ answer: z.string() }).passthrough().nullable() });
const CLI_STATUS: Record<number, string> = { 0: 'answered', 1: 'error response', 3: 'not answered in time' };

export const wrongAnswers = (answers: Answered[]) => answers.filter((a) => a.status !== 'answered' || a.answer !== `Stub answer to ${a.queryId}.`).length;

async function mcpAsk(session: McpSession, question: string): Promise<Answered & { conversationId: string | undefined }> {
  const t0 = performance.now();
  const r = await session.call('ask', { question }, 120_000);
  const ms = performance.now() - t0;
  const parsed = ToolResult.safeParse(r.structured);
  if (!parsed.success) throw new Error(`ask through MCP gave no query id (${r.isError ? 'tool error' : 'result'}): ${r.text.slice(0, 300)}`);
  const { queryId, status, answer, conversationId } = parsed.data;
  return { queryId, status, answer: answer ?? null, ms, conversationId };
}

/** Through MCP, one at a time: each `callTool` waited for before the next. */
export async function askWithMcp(session: McpSession, questions: string[]): Promise<Answered[]> {
  const out: Answered[] = [];
  for (const q of questions) {
    const { conversationId: _, ...a } = await mcpAsk(session, q);
    out.push(a);
  }
  return out;
}

/** With the CLI a person runs, one at a time: `autopoll ask "..." --role R --bridge-db F`, spawn -> exit. */
export async function askWithCli(bridgeDb: string, role: string, questions: string[]): Promise<Answered[]> {
  const out: Answered[] = [];
  for (const q of questions) {
    const t0 = performance.now();
    const run = await runAutopoll(['ask', q, '--role', role, '--bridge-db', bridgeDb, '--wait', '60', '--json'], {}, 90_000);
    const ms = performance.now() - t0;
    let parsed: z.infer<typeof CliResult>;
    try {
      parsed = CliResult.parse(JSON.parse(run.stdout));
    } catch {
      throw new Error(`autopoll ask exited ${run.code} without its JSON: ${(run.stderr || run.stdout).slice(0, 300)}`);
    }
    out.push({ queryId: parsed.queryId, status: CLI_STATUS[run.code ?? -1] ?? `exit ${run.code}`, answer: parsed.response?.answer ?? null, ms });
  }
  return out;
}

/** `n` asks through the one server at once; the figures, and each result for the bridge check. */
export async function askConcurrently(session: McpSession, bridge: BridgeFixture, n: number): Promise<{ run: ConcurrentRun; answers: Answered[] }> {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => mcpAsk(session, `MCP benchmark concurrent question ${i}: which queue holds the answers?`)));
  const seconds = (performance.now() - t0) / 1000;
  const answers = results.map(({ conversationId: _, ...a }) => a);
  const ids = answers.map((a) => a.queryId);
  const bridgeOnce = onceByQuery(bridge);
  const unique = (id: string) => ids.indexOf(id) === ids.lastIndexOf(id);
  const answeredOnce = answers.filter((a) => wrongAnswers([a]) === 0 && unique(a.queryId) && bridgeOnce(a.queryId)).length;
  const run: ConcurrentRun = {
    asked: n,
    seconds: round(seconds, 3),
    perSecond: round(n / seconds, 1),
    perAsk: timing(answers.map((a) => a.ms)),
    distinctQueryIds: new Set(ids).size,
    conversations: new Set(results.map((r) => r.conversationId)).size,
    wrongAnswers: wrongAnswers(answers),
    answeredOnce,
  };
  return { run, answers };
}

/** Query rows (side a) and response rows (side b) per query id, over the whole bridge file. */
function rowsByQuery(bridge: BridgeFixture): Map<string, { a: number; b: number }> {
  const rows = bridge.db
    .prepare<[], { q: string; side: string; n: number }>(
      "SELECT json_extract(message, '$.query_id') AS q, from_session AS side, COUNT(*) AS n FROM messages WHERE json_valid(message) AND json_extract(message, '$.query_id') IS NOT NULL GROUP BY q, side",
    )
    .all();
  const counts = new Map<string, { a: number; b: number }>();
  for (const r of rows) {
    const c = counts.get(r.q) ?? { a: 0, b: 0 };
    if (r.side === 'a' || r.side === 'b') c[r.side] += r.n;
    counts.set(r.q, c);
  }
  return counts;
}

const isOnce = (counts: Map<string, { a: number; b: number }>, q: string) => counts.get(q)?.a === 1 && counts.get(q)?.b === 1;

function onceByQuery(bridge: BridgeFixture): (queryId: string) => boolean {
  const counts = rowsByQuery(bridge);
  return (q) => isOnce(counts, q);
}

/** Every question asked in the run: one query row and one response row in the bridge. */
export function checkOnce(bridge: BridgeFixture, queryIds: string[]): OnceCheck {
  const counts = rowsByQuery(bridge);
  const bad = [...new Set(queryIds)].filter((q) => !isOnce(counts, q));
  const duplicated = queryIds.length - new Set(queryIds).size;
  return {
    questions: queryIds.length,
    notOnce: bad.length + duplicated,
    notOnceSample: bad.slice(0, 5).map((q) => `${q}: ${counts.get(q)?.a ?? 0}/${counts.get(q)?.b ?? 0}`),
  };
}
