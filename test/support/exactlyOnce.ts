import { expect } from 'vitest';
import type { BridgeFixture } from './bridge.js';

/** Every query id answered by exactly one response, and the ledger agreeing with the bridge. */
export function expectAnsweredExactlyOnce(bridge: BridgeFixture, conversationId: string, queryIds: string[], messageIds: number[]): void {
  const responses = bridge.responses(conversationId);
  const counts = new Map<string, number>();
  for (const r of responses) counts.set(String(r.body.query_id), (counts.get(String(r.body.query_id)) ?? 0) + 1);
  const wrong = queryIds.filter((q) => counts.get(q) !== 1).map((q) => `${q}:${counts.get(q) ?? 0}`);
  expect(wrong, 'query ids not answered exactly once').toEqual([]);
  expect(responses).toHaveLength(queryIds.length);
  for (const r of responses) expect(r.body.error, `error response for ${String(r.body.query_id)}`).toBeUndefined();
  for (const id of messageIds) {
    const row = bridge.ledger(id);
    expect(row?.state, `ledger of message ${id}`).toBe('answered');
    expect(responses.some((r) => r.id === row!.response_message_id)).toBe(true);
  }
}
