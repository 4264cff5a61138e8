import { describe, expect, it } from 'vitest';
import { BridgeWriter } from '../../src/bridge/BridgeWriter.js';
import { readyResponse } from '../../src/bridge/responseBody.js';
import { BridgeFixture } from '../support/bridge.js';

describe('BridgeWriter on a real bridge file', () => {
  it('redacts secrets in string values, keeps the JSON valid and audits as the bridge does', () => {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const writer = new BridgeWriter(bridge.db);
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----';
    const id = writer.sendResponse(conv.id, readyResponse({
      type: 'response',
      query_id: 'q_1',
      answer: `use Bearer abc.def-123 and password: "hunter2" and ${pem} and AKIAABCDEFGHIJKLMNOP`,
      sources: ['api_key=sk-live-1'],
    }));
    const row = bridge.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as Record<string, string | number>;
    const body = JSON.parse(String(row.message)) as { answer: string; sources: string[] };
    expect(body.answer).toBe('use BEARER_TOKEN_REDACTED and PASSWORD_REDACTED" and PRIVATE_KEY_REDACTED and AWS_KEY_REDACTED');
    expect(body.sources).toEqual(['API_KEY_REDACTED']);
    expect(row).toMatchObject({ from_session: 'b', to_session: 'a', read: 0, metadata: '{"action_type": "response"}' });
    const audit = bridge.db.prepare("SELECT * FROM audit_log WHERE action = 'send_message' AND session_id = 'b'").get() as Record<string, string>;
    expect(audit.details).toBe(`{"to": "a", "message_length": ${String(row.message).length}, "redacted": true}`);
    expect(audit.timestamp).toBe(row.timestamp);
    bridge.close();
  });

  it('writes non-ASCII text escaped as Python json.dumps does', () => {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const id = new BridgeWriter(bridge.db).sendResponse(conv.id, readyResponse({ type: 'response', query_id: 'q', answer: 'café ☕ 😀' }));
    const row = bridge.db.prepare('SELECT message FROM messages WHERE id = ?').get(id) as { message: string };
    expect(row.message).toBe('{"type": "response", "query_id": "q", "answer": "caf\\u00e9 \\u2615 \\ud83d\\ude00"}');
    bridge.close();
  });
});
