import { mapWithin } from '../shared/mapWithin.js';
import type { ContextReader, ContextText } from './ContextReader.js';
import type { InboxRow } from './InboxScanner.js';
import { parseInboxMessage } from './QueryParser.js';

/** Context files read at once while judging a batch: each holds up to --context-max-bytes (and more while read). */
const JUDGE_CONCURRENCY = 8;

/** What the producer decided about one inbox row before taking it. */
export type Verdict =
  | { row: InboxRow; accept: true; queryId: string; question: string; context?: ContextText }
  | { row: InboxRow; accept: false; reason: string; queryId?: string };

/** Decides whether an inbox row is a query to answer, reading its context file when it names one. */
export async function judgeRow(row: InboxRow, contexts: ContextReader): Promise<Verdict> {
  const parsed = parseInboxMessage(row.message);
  if (!parsed.ok) return { row, accept: false, reason: parsed.reason, ...(parsed.queryId ? { queryId: parsed.queryId } : {}) };
  if (!parsed.contextFile) return { row, accept: true, queryId: parsed.queryId, question: parsed.question };
  const ctx = await contexts.read(parsed.contextFile);
  if (!ctx.ok) return { row, accept: false, reason: ctx.reason, queryId: parsed.queryId };
  return { row, accept: true, queryId: parsed.queryId, question: parsed.question, context: ctx.context };
}

/** The verdicts of a batch, in its order, with a bounded number of context files open. */
export function judgeRows(rows: readonly InboxRow[], contexts: ContextReader): Promise<Verdict[]> {
  return mapWithin(rows, JUDGE_CONCURRENCY, (row) => judgeRow(row, contexts));
}
