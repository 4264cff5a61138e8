import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pyJsonDumps } from '../../src/bridge/pyjson.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { AutopollProcess, errorLines, stopAll } from '../support/cli.js';
import { FakeAnthropic, type Reply } from '../support/fakeAnthropic.js';
import { CLAUDE_CONSUMER, SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';
import { expectBridgeRowsValid, insertRaw } from './support/bridgeRows.js';
import { ProcessMarker } from '../support/leftovers.js';
import { queryIdOf } from './support/promptInjection.js';
import { redisDump } from '../support/redisDump.js';
import { leaksIn, protocolRedact, type Needle } from './support/secrets.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = `${UPPER}abcdefghijklmnopqrstuvwxyz0123456789`;
const pick = (n: number, alphabet: string): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/**
 * One of each secret PROTOCOL.md's rules know, fresh each run, in a sentence where each is
 * followed by a space (so the bridge's whole-text redaction and autopoll's per-value one agree),
 * and the needles to look for: each secret's random part, and its first and last 12 characters
 * (a secret cut in two before redaction would leak a piece).
 */
function secretSet(name: string, keyLines = 3): { text: string; needles: Needle[] } {
  const aws = `AKIA${pick(16, `${UPPER}0123456789`)}`;
  const openai = pick(48, ALNUM);
  const anthropic = `${pick(80, `${ALNUM}-_`)}AA`;
  const bearer = pick(40, `${ALNUM}-._~`);
  const github = pick(36, ALNUM);
  const password = pick(20, ALNUM);
  const apiKey = pick(32, ALNUM);
  const clientSecret = pick(32, ALNUM);
  const keyBody = Array.from({ length: keyLines }, () => pick(64, `${ALNUM}+/`));
  const text = [
    `aws ${aws} openai sk-${openai} ANTHROPIC_API_KEY=sk-ant-api03-${anthropic} Authorization: Bearer ${bearer} github ghp_${github}`,
    `password: ${password} api_key=${apiKey} client_secret: ${clientSecret}`,
    `key -----BEGIN RSA PRIVATE KEY-----\n${keyBody.join('\n')}\n-----END RSA PRIVATE KEY----- end.`,
  ].join(' ');
  const parts: Record<string, string> = { aws: aws.slice(4), openai, anthropic, bearer, github, password, apiKey, clientSecret, ...Object.fromEntries(keyBody.map((l, i) => [`privateKeyLine${i}`, l])) };
  const needles = Object.entries(parts).flatMap(([what, s]): Needle[] => [[`${name} ${what}`, s], [`${name} ${what} (start)`, s.slice(0, 12)], [`${name} ${what} (end)`, s.slice(-12)]]);
  return { text, needles };
}

/**
 * Chaos scenario 7: secrets in questions and answers. Questions carry one of each secret, sent
 * through the bridge's own send (which redacts them) and written raw by a side `a` that skipped
 * it; the fake API's model echoes the question and adds secrets of its own; one question's API
 * call fails with secrets in the error. The bridge rows autopoll writes must be redacted exactly
 * as the bridge redacts (PROTOCOL.md), and no log line, Redis key (job data, return values,
 * logs, events), metric or request to the model may hold a secret or a conversation token.
 */
describe('chaos: secrets never leave autopoll unredacted', () => {
  const marker = new ProcessMarker();
  const redisUrl = inject('redisUrl');
  const pipeline = new SpawnedPipeline(['--redis', redisUrl], marker.env);
  const api = new FakeAnthropic();
  const asked = secretSet('asked');
  const made = secretSet('answered');
  const failed = secretSet('api error', 12);
  const anthropicKey = `sk-ant-api03-${pick(93, `${ALNUM}-_`)}AA`;
  /**
   * A bare Anthropic key is no secret to PROTOCOL.md's rules (after `sk-` come `ant-`, and the
   * rule wants 48 letters or digits): the bridge would store it as it is. autopoll redacts it by
   * its shape before the bridge's rules run, which then leave the row as it is.
   */
  const bareAnthropic = `${pick(80, `${ALNUM}_`)}AA`;
  const boardToken = randomBytes(24).toString('hex');
  /** What the fake model answered, by query id. */
  const answers = new Map<string, string>();
  let producer: AutopollProcess;
  let consumer: AutopollProcess;

  beforeAll(async () => {
    api.responder = (req): Reply => {
      const queryId = queryIdOf(req);
      const question = /<question query_id="[^"]+">\n([\s\S]*?)\n<\/question>/.exec(req.text)?.[1];
      if (!queryId || question === undefined) return { kind: 'text', text: 'ok' };
      if (queryId.startsWith('q_fail')) return { kind: 'error', status: 400, type: 'invalid_request_error', message: `request refused: ${failed.text}` };
      const text = `Echo: ${question} Model adds: ${made.text} And a bare sk-ant-api03-${bareAnthropic} too.`;
      answers.set(queryId, text);
      return { kind: 'text', text };
    };
    await api.start();
    const env = { AUTOPOLL_BOARD_TOKEN: boardToken };
    producer = pipeline.producer(['--port', '0'], env);
    consumer = pipeline.consumer([...CLAUDE_CONSUMER, '--port', '0'], { ...claudeEnv(api.url), ANTHROPIC_API_KEY: anthropicKey, ...env });
    await producer.waitForLog(/^producer started$/);
    await consumer.waitForLog(/^consumer started$/, 90_000);
  });

  afterAll(async () => {
    const left = await stopAll(pipeline.procs, marker);
    await api.stop();
    pipeline.bridge.close();
    expect(left, 'processes left behind').toEqual([]);
  });

  /** The send_message audit row written with a response (same time, same length). */
  function auditOf(response: { message: string; timestamp: string }): Record<string, unknown> | undefined {
    const rows = pipeline.bridge.db.prepare(`SELECT details FROM audit_log WHERE session_id = 'b' AND action = 'send_message' AND timestamp = ?`).all(response.timestamp) as Array<{ details: string }>;
    return rows.map((r) => JSON.parse(r.details) as Record<string, unknown>).find((d) => d.message_length === response.message.length);
  }

  async function metricsOf(p: AutopollProcess): Promise<string> {
    const url = String((await p.waitForLog(/^operator server listening$/)).url);
    const res = await fetch(`${url}metrics`, { headers: { authorization: `Bearer ${boardToken}` } });
    expect(res.status).toBe(200);
    return res.text();
  }

  it('bridge rows redacted as the bridge redacts; no secret or token in logs, Redis, metrics or the model requests', async () => {
    const { conv, bridge } = pipeline;
    const viaBridge = ['q_bridge_1', 'q_bridge_2'];
    const raw = ['q_raw_1', 'q_raw_2'];
    const ids: number[] = [];
    for (const q of viaBridge) {
      const sent = bridge.client.ask(conv.id, q, `Is this safe to share? ${asked.text}`);
      expect(sent.redacted, 'the bridge redacted the question').toBe(true);
      ids.push(sent.id);
    }
    // A writer that skipped the bridge's send: the secrets sit in the bridge row as they are.
    for (const q of raw) ids.push(insertRaw(bridge, conv.id, pyJsonDumps({ type: 'query', query_id: q, question: `Is this safe to share? ${asked.text}` })));
    ids.push(bridge.ask(conv.id, 'q_fail_1', 'This call fails with secrets in the error.'));
    await waitFor('every question finished', () => ids.every((id) => ['answered', 'failed'].includes(String(bridge.ledger(id)?.state))), 180_000, 100);
    await new Promise((r) => setTimeout(r, 500));

    // Each question answered once; the failing one with one error response.
    const responses = bridge.responses(conv.id);
    expect(responses.map((r) => String(r.body.query_id)).sort()).toEqual([...viaBridge, ...raw, 'q_fail_1'].sort());
    const rows = bridge.db.prepare(`SELECT id, message FROM messages WHERE from_session = 'b' AND conversation_id = ?`).all(conv.id) as Array<{ id: number; message: string }>;
    for (const q of [...viaBridge, ...raw]) {
      const response = responses.find((r) => r.body.query_id === q)!;
      expect(response.body.error, q).toBeUndefined();
      const answer = answers.get(q)!;
      expect(answer, q).toContain(made.needles[0]![1]);
      expect(response.body.answer, `${q}: a bare Anthropic key redacted by its shape`).toContain('And a bare [REDACTED:anthropic-key] too.');
      // Past that key, redacted exactly as the bridge's own rules (PROTOCOL.md) redact the answer...
      const shaped = answer.replace(`sk-ant-api03-${bareAnthropic}`, '[REDACTED:anthropic-key]');
      expect(response.body.answer, q).toBe(protocolRedact(shaped));
      // ...and the row is byte for byte what the bridge's send would store for that body.
      const row = rows.find((r) => r.id === response.id)!;
      expect(row.message, q).toBe(protocolRedact(pyJsonDumps({ ...response.body, answer: shaped })));
      expect(auditOf(response), `${q}: its audit row says it was redacted`).toMatchObject({ to: 'a', message_length: row.message.length, redacted: true });
    }
    const failureRow = responses.find((r) => r.body.query_id === 'q_fail_1')!;
    const failure = failureRow.body;
    expect(failure.error).toMatchObject({ kind: 'claude_error', message: expect.stringContaining('AWS_KEY_REDACTED') });
    expect(String(failure.answer)).toContain('AWS_KEY_REDACTED');
    expect(auditOf(failureRow), 'the error response was redacted, and its audit row says so').toMatchObject({ message_length: failureRow.message.length, redacted: true });
    expect(bridge.ledger(ids[ids.length - 1]!)).toMatchObject({ state: 'failed', error_kind: 'claude_error' });
    expectBridgeRowsValid(bridge, conv.id);

    const needles = [...asked.needles, ...made.needles, ...failed.needles];
    const tokens: Needle[] = [['tokenA', conv.tokenA], ['tokenB', conv.tokenB], ['ANTHROPIC_API_KEY', anthropicKey], ['ANTHROPIC_API_KEY (part)', anthropicKey.slice(13, 45)], ['board token', boardToken], ['bare Anthropic key', bareAnthropic]];
    // What autopoll wrote into the bridge file: its response rows, their audit rows, its ledger.
    const written = JSON.stringify([
      bridge.db.prepare(`SELECT * FROM messages WHERE from_session = 'b'`).all(),
      bridge.db.prepare(`SELECT * FROM audit_log WHERE session_id = 'b'`).all(),
      bridge.db.prepare('SELECT * FROM autopoll_ledger').all(),
    ]);
    expect.soft(leaksIn(written, [...needles, ...tokens]), 'in the rows autopoll wrote to the bridge file').toEqual([]);
    for (const p of pipeline.procs) {
      expect(p.lines.length).toBeGreaterThan(0);
      expect.soft(leaksIn(JSON.stringify(p.lines) + p.stderr, [...needles, ...tokens]), `in the log lines of ${String(p.child.spawnargs[2])}`).toEqual([]);
    }
    const redis = await redisDump(redisUrl, pipeline.prefix);
    expect(redis).toContain(`${pipeline.prefix}:answers:`);
    expect.soft(leaksIn(redis, [...needles, ...tokens]), 'in Redis (job data, return values, job logs, events)').toEqual([]);
    for (const p of [producer, consumer]) {
      const metrics = await metricsOf(p);
      expect(metrics).toContain('autopoll_');
      expect.soft(leaksIn(metrics, [...needles, ...tokens]), 'in /metrics').toEqual([]);
    }
    // The model saw the questions as the bridge stores them: redacted.
    const requests = JSON.stringify(api.requests.map((r) => r.body));
    expect(requests).toContain('q_raw_1');
    expect.soft(leaksIn(requests, [...asked.needles, ...tokens]), 'in the requests to the model').toEqual([]);
    expect(errorLines(producer)).toEqual([]);
  });
});
