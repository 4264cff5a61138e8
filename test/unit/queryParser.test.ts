import { describe, expect, it } from 'vitest';
import { MAX_QUESTION_CHARS, parseInboxMessage, type ParsedMessage } from '../../src/producer/QueryParser.js';

const query = (fields: Record<string, unknown>) => JSON.stringify({ type: 'query', query_id: 'q_1', question: 'What is X?', ...fields });

function rejected(result: ParsedMessage): { reason: string; queryId?: string } {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('expected a rejection');
  expect(result.reason.length).toBeGreaterThan(10);
  return result;
}

describe('parseInboxMessage: accepted queries', () => {
  it('reads the PROTOCOL.md query with its context_file', () => {
    const text = '{"type": "query", "query_id": "q_12345", "question": "What is X?", "context_file": "/path/SESSION-RESUME.md"}';
    expect(parseInboxMessage(text)).toEqual({ ok: true, queryId: 'q_12345', question: 'What is X?', contextFile: '/path/SESSION-RESUME.md' });
  });

  it('leaves contextFile out when there is none (absent or null)', () => {
    const a = parseInboxMessage(query({}));
    expect(a).toEqual({ ok: true, queryId: 'q_1', question: 'What is X?' });
    expect(a).not.toHaveProperty('contextFile');
    expect(parseInboxMessage(query({ context_file: null }))).not.toHaveProperty('contextFile');
  });

  it('accepts a numeric query_id and hands it on as a string', () => {
    expect(parseInboxMessage(query({ query_id: 12345 }))).toEqual({ ok: true, queryId: '12345', question: 'What is X?' });
    expect(parseInboxMessage(query({ query_id: 0 }))).toMatchObject({ ok: true, queryId: '0' });
  });

  it('ignores extra fields', () => {
    expect(parseInboxMessage(query({ priority: 'high', extra: { a: 1 } }))).toMatchObject({ ok: true, queryId: 'q_1' });
  });

  it(`accepts a question of exactly ${MAX_QUESTION_CHARS} characters`, () => {
    expect(MAX_QUESTION_CHARS).toBe(50_000);
    const question = 'x'.repeat(50_000);
    const result = parseInboxMessage(query({ question }));
    expect(result).toMatchObject({ ok: true, queryId: 'q_1' });
    expect(result.ok && result.question.length).toBe(50_000);
  });

  it('keeps the question text as sent (no trimming, unicode intact)', () => {
    const question = '  Où est 😀?\n  ';
    expect(parseInboxMessage(query({ question }))).toMatchObject({ ok: true, question });
  });
});

describe('parseInboxMessage: rejections', () => {
  it('free text that is not JSON', () => {
    for (const text of ['hello shard', '', '{"type": "query"', "{'type': 'query'}"]) {
      const r = rejected(parseInboxMessage(text));
      expect(r.reason).toMatch(/not JSON/);
      expect(r.queryId).toBeUndefined();
    }
  });

  it('JSON that is not an object: array, number, string, null, boolean', () => {
    for (const text of ['[]', '[{"type": "query", "query_id": "q", "question": "x"}]', '42', '"query"', 'null', 'true']) {
      const r = rejected(parseInboxMessage(text));
      expect(r.reason, text).toMatch(/not an object/);
      expect(r.reason).not.toMatch(/not JSON/);
    }
  });

  it('other message types, naming the type', () => {
    const status = rejected(parseInboxMessage('{"type": "status", "status": "working"}'));
    expect(status.reason).toContain('"status"');
    expect(status.reason).toContain('not "query"');
    const control = rejected(parseInboxMessage('{"type": "control", "command": {"type": "shutdown"}}'));
    expect(control.reason).toContain('"control"');
    const task = rejected(parseInboxMessage('{"type": "task_assignment", "query_id": "q_9"}'));
    expect(task.reason).toContain('"task_assignment"');
    expect(task.queryId).toBeUndefined(); // a response would read as a second answer to q_9
  });

  it('a missing or non-string type', () => {
    const missing = rejected(parseInboxMessage('{"query_id": "q_2", "question": "x"}'));
    expect(missing.reason).toMatch(/type is missing/);
    expect(missing.queryId).toBe('q_2');
    const numeric = rejected(parseInboxMessage('{"type": 7, "question": "x"}'));
    expect(numeric.reason).toMatch(/type is missing/);
    expect(numeric.queryId).toBeUndefined();
  });

  it('a very long type name is cut in the reason', () => {
    const r = rejected(parseInboxMessage(JSON.stringify({ type: 't'.repeat(500) })));
    expect(r.reason).toContain(`"${'t'.repeat(40)}"`);
    expect(r.reason).not.toContain('t'.repeat(41));
  });

  it('a query without a question', () => {
    const r = rejected(parseInboxMessage('{"type": "query", "query_id": "q_3"}'));
    expect(r.reason).toContain('no "question"');
    expect(r.queryId).toBe('q_3');
  });

  it('a question that is not a string', () => {
    const r = rejected(parseInboxMessage(query({ question: 5 })));
    expect(r.reason).toContain('"question" must be a string');
    expect(r.queryId).toBe('q_1');
  });

  it('an empty or blank question', () => {
    for (const question of ['', '   ', '\n\t']) {
      const r = rejected(parseInboxMessage(query({ question })));
      expect(r.reason).toContain('"question" is empty');
      expect(r.queryId).toBe('q_1');
    }
  });

  it(`a question of ${MAX_QUESTION_CHARS + 1} characters`, () => {
    const r = rejected(parseInboxMessage(query({ query_id: 'q_long', question: 'x'.repeat(50_001) })));
    expect(r.reason).toContain('longer than 50000 characters');
    expect(r.reason).toContain('context_file');
    expect(r.queryId).toBe('q_long');
  });

  it('a query without query_id, or with an unusable one', () => {
    for (const query_id of [undefined, '', '   ', null, true, 1.5, { id: 1 }, 'q'.repeat(201)]) {
      const r = rejected(parseInboxMessage(JSON.stringify({ type: 'query', query_id, question: 'What?' })));
      expect(r.reason, String(query_id)).toContain('"query_id"');
      expect(r.queryId).toBeUndefined();
    }
  });

  it('names every problem when there are several', () => {
    const r = rejected(parseInboxMessage('{"type": "query", "question": ""}'));
    expect(r.reason).toContain('"query_id"');
    expect(r.reason).toContain('"question" is empty');
  });

  it('keeps the query_id of a rejected query, trimmed and as a string', () => {
    expect(rejected(parseInboxMessage(query({ query_id: ' q_7 ', question: '' }))).queryId).toBe('q_7');
    expect(rejected(parseInboxMessage(query({ query_id: 77, question: '' }))).queryId).toBe('77');
  });

  it('a context_file that is not a string, empty or too long, naming the field', () => {
    const r = rejected(parseInboxMessage(query({ context_file: 5 })));
    expect(r.queryId).toBe('q_1');
    expect(r.reason).toBe('"context_file" must be a string (a path under the context root)');
    expect(rejected(parseInboxMessage(query({ context_file: '' }))).reason).toBe('"context_file" is empty; leave it out or name a file');
    expect(rejected(parseInboxMessage(query({ context_file: 'a'.repeat(4097) }))).reason).toBe('"context_file" is longer than 4096 characters');
  });

  it('counts question length in characters as Python does, not UTF-16 units', () => {
    const emoji = '😀'.repeat(MAX_QUESTION_CHARS);
    expect(emoji.length).toBe(2 * MAX_QUESTION_CHARS);
    expect(parseInboxMessage(query({ question: emoji })).ok).toBe(true);
    expect(rejected(parseInboxMessage(query({ question: `${emoji}x` }))).reason).toContain('longer than 50000 characters');
  });

  it('never throws, whatever the text', () => {
    for (const text of ['{"__proto__": {"type": "query"}}', '{"type": "query", "query_id": "q", "question": "x", "constructor": 1}', '\u0000', '1e999', '{"type":"query","query_id":"q","question":"x","context_file":"' + 'a'.repeat(5000) + '"}']) {
      expect(() => parseInboxMessage(text)).not.toThrow();
    }
    expect(parseInboxMessage('{"__proto__": {"type": "query"}}').ok).toBe(false);
  });
});
