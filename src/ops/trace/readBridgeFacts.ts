import { Ledger } from '../../bridge/Ledger.js';
import type { Db } from '../../bridge/openBridge.js';
import { bridgeMs } from './buildTrace.js';
import type { BridgeFacts } from './traceFacts.js';

export interface TraceSelector {
  queryId?: string | undefined;
  messageId?: number | undefined;
  conversation?: string | undefined;
}

interface MessageRow {
  id: number;
  conversation_id: string;
  timestamp: string;
  query_id: string | null;
}

// The query id as the message's JSON holds it; a message that is not JSON has none (json_extract
// would throw on it). instr() first: most rows are skipped without parsing their JSON.
const QUERY_ID = "CASE WHEN json_valid(message) THEN json_extract(message, '$.query_id') END";
const QUESTIONS_BY_QUERY_ID = `SELECT id, conversation_id, timestamp, ${QUERY_ID} AS query_id FROM messages
  WHERE to_session = 'b' AND instr(message, @q) > 0 AND ${QUERY_ID} = @q ORDER BY id`;
const QUESTION_BY_ID = `SELECT id, conversation_id, timestamp, ${QUERY_ID} AS query_id FROM messages WHERE id = ? AND to_session = 'b'`;
const RESPONSES = `SELECT id, timestamp, CASE WHEN json_valid(message) THEN json_extract(message, '$.error.kind') END AS error_kind,
  CASE WHEN json_valid(message) THEN json_type(message, '$.error') END AS error_type FROM messages
  WHERE conversation_id = @conversation AND from_session = 'b' AND id > @after AND id < @before AND instr(message, @q) > 0
    AND ${QUERY_ID} = @q AND (CASE WHEN json_valid(message) THEN json_extract(message, '$.type') END) = 'response' ORDER BY id`;
const NEXT_ASKING = `SELECT id FROM messages WHERE conversation_id = @conversation AND to_session = 'b' AND id > @after
  AND instr(message, @q) > 0 AND ${QUERY_ID} = @q ORDER BY id LIMIT 1`;

/**
 * The questions the selector names, each with its ledger row and side b's responses to it (those
 * of its query id in its conversation, up to the next question asking the same id there). A full
 * scan of the messages when selected by query id: the bridge has no index on it.
 */
export function readBridgeFacts(db: Db, selector: TraceSelector): BridgeFacts[] {
  const ledger = new Ledger(db);
  let rows: MessageRow[];
  if (selector.messageId !== undefined) {
    const row = db.prepare<[number], MessageRow>(QUESTION_BY_ID).get(selector.messageId);
    rows = row ? [row] : [];
  } else {
    rows = db.prepare<{ q: string }, MessageRow>(QUESTIONS_BY_QUERY_ID).all({ q: selector.queryId ?? '' });
  }
  rows = rows.filter((r) => (selector.queryId === undefined || r.query_id === selector.queryId) && (selector.conversation === undefined || r.conversation_id === selector.conversation));
  const responses = db.prepare<Record<string, unknown>, { id: number; timestamp: string; error_kind: unknown; error_type: string | null }>(RESPONSES);
  const nextAsking = db.prepare<Record<string, unknown>, number>(NEXT_ASKING).pluck();
  return rows.map((row) => {
    const where = { conversation: row.conversation_id, after: row.id, q: row.query_id };
    const next = row.query_id === null ? undefined : nextAsking.get(where);
    const answers = row.query_id === null ? [] : responses.all({ ...where, before: next ?? Number.MAX_SAFE_INTEGER });
    return {
      question: { id: row.id, conversationId: row.conversation_id, at: bridgeMs(row.timestamp), queryId: row.query_id },
      ledger: ledger.get(row.id),
      responses: answers.map((r) => ({ id: r.id, at: bridgeMs(r.timestamp), ...(r.error_type === null ? {} : { errorKind: typeof r.error_kind === 'string' ? r.error_kind : 'error' }) })),
    };
  });
}
