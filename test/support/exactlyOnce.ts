import { expect } from 'vitest';
import type { BridgeFixture } from './bridge.js';

/**
 * The one exactly-once check of tests, chaos tests and benchmarks. It reads the bridge in a few
 * SQL statements and maps, as a soak's 100,000 rows are too many for per-row lookups.
 */

/** A conversation's answers counted, whatever was asked: what a benchmark can afford to check. */
export interface BridgeCheck {
  asked: number;
  responseRows: number;
  distinctQueryIds: number;
  /** Query ids with more than one response row. */
  answeredTwice: number;
  unreadForB: number;
  ledger: Record<string, number>;
}

/** Every question answered exactly once? Response rows, distinct query ids, unread questions, ledger states. */
export function checkBridge(bridge: BridgeFixture, conv: { id: string }, asked: number): BridgeCheck {
  const rows = bridge.db
    .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT json_extract(message, '$.query_id')) AS d FROM messages WHERE conversation_id = ? AND from_session = 'b'")
    .get(conv.id) as { n: number; d: number };
  const twice = bridge.db
    .prepare(
      "SELECT COUNT(*) FROM (SELECT json_extract(message, '$.query_id') AS q FROM messages WHERE conversation_id = ? AND from_session = 'b' GROUP BY q HAVING COUNT(*) > 1)",
    )
    .pluck()
    .get(conv.id) as number;
  const unread = bridge.db.prepare("SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND to_session = 'b' AND read = 0").pluck().get(conv.id) as number;
  const ledger = Object.fromEntries(
    (bridge.db.prepare('SELECT state, COUNT(*) AS n FROM autopoll_ledger WHERE conversation_id = ? GROUP BY state').all(conv.id) as Array<{ state: string; n: number }>).map(
      (r) => [r.state, r.n],
    ),
  );
  return { asked, responseRows: rows.n, distinctQueryIds: rows.d, answeredTwice: twice, unreadForB: unread, ledger };
}

export interface ExactlyOnce {
  asked: number;
  responseRows: number;
  /** Query ids not answered exactly once (`id:count`), the first 10. */
  notOnce: string[];
  notOnceCount: number;
  errorResponses: number;
  /** Answers that do not hold the answer expected for their question, when one is expected. */
  wrongAnswers: number;
  wrongAnswerSample: string[];
  /** Ledger rows of asked messages not `answered`, or not pointing at a response to their query in the conversation. */
  ledgerWrong: number;
  ledgerWrongSample: string[];
  unreadForB: number;
}

export interface Asked {
  queryIds: readonly string[];
  /** The message id of each question, in the order of `queryIds`. */
  messageIds: readonly number[];
}

export interface AnswerExpectation {
  /** Text each answer to `queryId` must contain. */
  expectedAnswer: (queryId: string) => string;
  /** Which answers to hold to it (default: all). */
  answerChecked?: (queryId: string) => boolean;
}

/** Every asked question answered exactly once, by a response the ledger points at. */
export function exactlyOnce(bridge: BridgeFixture, conversationId: string, asked: Asked, expectation?: AnswerExpectation): ExactlyOnce {
  const { queryIds, messageIds } = asked;
  const rows = bridge.db
    .prepare<[string], { q: string | null; err: number; answer: string | null }>(
      "SELECT json_extract(message, '$.query_id') AS q, json_extract(message, '$.error') IS NOT NULL AS err, json_extract(message, '$.answer') AS answer FROM messages WHERE conversation_id = ? AND from_session = 'b'",
    )
    .all(conversationId);
  const counts = new Map<string, number>();
  let errorResponses = 0;
  const wrong: string[] = [];
  let wrongAnswers = 0;
  const checked = expectation?.answerChecked ?? (() => true);
  for (const r of rows) {
    counts.set(String(r.q), (counts.get(String(r.q)) ?? 0) + 1);
    if (r.err) errorResponses++;
    if (expectation && checked(String(r.q)) && !(r.answer ?? '').includes(expectation.expectedAnswer(String(r.q)))) {
      wrongAnswers++;
      if (wrong.length < 5) wrong.push(`${r.q}: ${(r.answer ?? '').slice(0, 120)}`);
    }
  }
  const notOnce = queryIds.filter((q) => counts.get(q) !== 1).map((q) => `${q}:${counts.get(q) ?? 0}`);
  const ledger = new Map(
    bridge.db
      .prepare<[string], { id: number; state: string; q: string | null; from: string | null; rq: string | null }>(
        `SELECT l.message_id AS id, l.state, l.query_id AS q, m.from_session AS "from", json_extract(m.message, '$.query_id') AS rq
         FROM autopoll_ledger l LEFT JOIN messages m ON m.id = l.response_message_id AND m.conversation_id = l.conversation_id WHERE l.conversation_id = ?`,
      )
      .all(conversationId)
      .map((r) => [r.id, r]),
  );
  const ledgerWrong: string[] = [];
  messageIds.forEach((id, i) => {
    const r = ledger.get(id);
    if (!r || r.state !== 'answered' || r.from !== 'b' || r.rq !== queryIds[i] || r.q !== queryIds[i]) ledgerWrong.push(`message ${id}: ${r ? `${r.state}, response to ${r.rq}` : 'no ledger row'}`);
  });
  return {
    asked: queryIds.length,
    responseRows: rows.length,
    notOnce: notOnce.slice(0, 10),
    notOnceCount: notOnce.length,
    errorResponses,
    wrongAnswers,
    wrongAnswerSample: wrong,
    ledgerWrong: ledgerWrong.length,
    ledgerWrongSample: ledgerWrong.slice(0, 5),
    unreadForB: checkBridge(bridge, { id: conversationId }, queryIds.length).unreadForB,
  };
}

/** Every query id answered by exactly one response, none an error, and the ledger agreeing with the bridge. */
export function expectAnsweredExactlyOnce(bridge: BridgeFixture, conversationId: string, queryIds: string[], messageIds: number[]): void {
  const c = exactlyOnce(bridge, conversationId, { queryIds, messageIds });
  expect(c.notOnce, 'query ids not answered exactly once').toEqual([]);
  expect(c.responseRows, 'response rows').toBe(queryIds.length);
  expect(c.errorResponses, 'error responses').toBe(0);
  expect(c.ledgerWrongSample, 'ledger rows not answered by a response to their query').toEqual([]);
}
