import { afterEach, describe, expect, it } from 'vitest';
import { AUTOPOLL_SCHEMA } from '../../src/bridge/bridgeSchema.js';
import { findAskedResponse } from '../../src/bridge/findAskedResponse.js';
import { Ledger } from '../../src/bridge/Ledger.js';
import { BridgeFixture } from '../support/bridge.js';

/** The asker's look through the ledger, on a real bridge file whose ledger another writer may have forged. */
describe('findAskedResponse', () => {
  let bridge: BridgeFixture;
  afterEach(() => bridge?.close());

  it('through the ledger takes only a response to the asked query id, later in the same conversation', () => {
    bridge = BridgeFixture.create();
    bridge.db.exec(AUTOPOLL_SCHEMA);
    const ledger = new Ledger(bridge.db);
    const conv = bridge.createConversation();
    const other = bridge.createConversation();
    const messageId = bridge.ask(conv.id, 'q_mine', 'mine');
    const asked = { conversationId: conv.id, messageId, queryId: 'q_mine' };
    const respond = (conversationId: string, body: Record<string, unknown>) => {
      const id = bridge.client.send(conversationId, 'b', JSON.stringify(body)).id;
      bridge.db.prepare("UPDATE messages SET read = 1 WHERE id = ?").run(id); // another reader of side a took it first
      return id;
    };
    const pointAt = (responseId: number) => bridge.db.prepare(
      `INSERT INTO autopoll_ledger (message_id, conversation_id, query_id, state, taken_at, response_message_id, updated_at)
       VALUES (?, ?, 'q_mine', 'answered', '2026-01-01T00:00:00', ?, '2026-01-01T00:00:00')
       ON CONFLICT (message_id) DO UPDATE SET response_message_id = excluded.response_message_id`,
    ).run(messageId, conv.id, responseId);
    const look = () => findAskedResponse(bridge.client, () => ledger, asked).response?.body;

    pointAt(respond(conv.id, { type: 'response', query_id: 'q_other', answer: 'not yours' }));
    expect(look()).toBeUndefined();
    pointAt(messageId); // the query itself
    expect(look()).toBeUndefined();
    pointAt(respond(other.id, { type: 'response', query_id: 'q_mine', answer: 'another conversation' }));
    expect(look()).toBeUndefined();
    pointAt(respond(conv.id, { type: 'response', query_id: 'q_mine', answer: 'yours' }));
    expect(look()).toMatchObject({ answer: 'yours' });
  });
});
