import type { BridgeClient } from './BridgeClient.js';
import type { Ledger, LedgerRow } from './Ledger.js';

/** A question side `a` asked: its query row and the query_id its response carries. */
export interface AskedQuery {
  conversationId: string;
  messageId: number;
  queryId: string;
}

export type AskedResponse =
  | { response: { id: number; body: Record<string, unknown> } }
  /** No response row to read: the producer's ledger row as read (none while the question is untaken or no producer made the table). */
  | { response: undefined; ledger: LedgerRow | undefined };

/**
 * The response to one asked question: the unread one to its query_id, else the row its ledger row
 * names (another reader of side a, a Claude session's check_messages or another asker, marked it
 * read first). Nothing is taken: the caller marks the row read as the bridge's fetch does.
 */
export function findAskedResponse(client: BridgeClient, ledger: () => Pick<Ledger, 'get'> | undefined, asked: AskedQuery): AskedResponse {
  const unread = client.findResponse(asked.conversationId, 'a', asked.messageId, asked.queryId);
  if (unread) return { response: unread };
  // Read once: two reads of the ledger may fall either side of the shard's commit of the answer.
  const row = ledger()?.get(asked.messageId);
  if (row?.response_message_id != null && row.response_message_id > asked.messageId) {
    const body = client.message(asked.conversationId, row.response_message_id)?.body;
    // The ledger is a table of the shared file: what it names is taken only if it is our answer.
    if (body?.type === 'response' && body.query_id === asked.queryId) return { response: { id: row.response_message_id, body } };
  }
  return { response: undefined, ledger: row };
}
