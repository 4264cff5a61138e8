import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BridgeFixture, tempDir, type Conversation } from '../support/bridge.js';
import { Producer } from '../../src/producer/Producer.js';
import { answerJobId } from '../../src/shared/queues.js';
import { capturingLogger, InProcessPipeline, producerOptions, testPrefix, testRedis } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * Each bad input on its own, against one running pipeline: after every case the producer must
 * still answer a good question, so none of them stopped it.
 */
describe('bad input on the bridge is rejected with a reason and stops nothing', () => {
  let bridge: BridgeFixture;
  let conv: Conversation;
  let pipeline: InProcessPipeline;
  let root: string;
  let bridgeDir: string;
  let good = 0;

  beforeAll(async () => {
    root = tempDir('autopoll-ctx-');
    bridgeDir = root;
    bridge = BridgeFixture.create(join(root, 'bridge.db'));
    conv = bridge.createConversation();
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'RESUME.md'), 'line one\nline two\n');
    const outside = tempDir('autopoll-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, {
      conversations: [{ id: conv.id, token: conv.tokenB }],
      contextRoot: root,
    }).start();
  });

  afterAll(async () => {
    await pipeline?.close();
    bridge?.close();
  });

  /** Sends the bad message, waits for its ledger row, then proves the producer still serves. */
  async function rejects(text: string): Promise<{ ledger: Record<string, unknown>; responses: Array<Record<string, unknown>> }> {
    const before = bridge.responses(conv.id).length;
    const id = bridge.send(conv.id, text);
    const ledger = await waitFor('ledger row', () => bridge.ledger(id));
    const q = `good_${++good}`;
    bridge.ask(conv.id, q, 'still there?');
    await waitFor('good answer', () => bridge.responses(conv.id).some((r) => r.body.query_id === q && r.body.answer === `Stub answer to ${q}.`));
    const responses = bridge.responses(conv.id).slice(before).map((r) => r.body).filter((b) => !String(b.query_id).startsWith('good_'));
    return { ledger, responses };
  }

  it('a message that is not JSON', async () => {
    const { ledger, responses } = await rejects('hello shard, are you there?');
    expect(ledger).toMatchObject({ state: 'rejected', error_kind: 'rejected' });
    expect(ledger.last_error).toMatch(/not JSON/);
    expect(responses).toEqual([]);
  });

  it('JSON that is not a query (a status message with no query_id)', async () => {
    const { ledger, responses } = await rejects('{"type": "status", "status": "busy"}');
    expect(ledger.state).toBe('rejected');
    expect(ledger.last_error).toMatch(/type is "status", not "query"/);
    expect(responses).toEqual([]);
  });

  it('a control message that carries a query_id gets no response (it would read as a second answer to that query)', async () => {
    const { ledger, responses } = await rejects('{"type": "control", "query_id": "ctl_1", "action": "shutdown"}');
    expect(ledger).toMatchObject({ state: 'rejected', query_id: null });
    expect(ledger.last_error).toMatch(/type is "control", not "query"/);
    expect(responses).toEqual([]);
  });

  it('a context_file naming the bridge database itself is refused (it holds every token)', async () => {
    for (const [qid, file] of [['q_db', 'bridge.db'], ['q_wal', 'bridge.db-wal']] as const) {
      const { ledger, responses } = await rejects(JSON.stringify({ type: 'query', query_id: qid, question: 'tokens?', context_file: `${bridgeDir}/${file}` }));
      expect(ledger).toMatchObject({ state: 'rejected', query_id: qid });
      expect((responses[0]!.error as { message: string }).message).toMatch(/is the bridge database/);
    }
  });

  it('a query without question', async () => {
    const { ledger, responses } = await rejects('{"type": "query", "query_id": "q_noq"}');
    expect(ledger).toMatchObject({ state: 'rejected', query_id: 'q_noq' });
    expect(responses[0]).toMatchObject({ query_id: 'q_noq', error: { kind: 'rejected', message: 'the query has no "question"' } });
    expect(String(responses[0]!.answer)).toMatch(/^autopoll could not answer this query \(rejected\): the query has no "question"/);
  });

  it('a question over 50,000 characters', async () => {
    const { ledger, responses } = await rejects(JSON.stringify({ type: 'query', query_id: 'q_long', question: 'x'.repeat(50_001) }));
    expect(ledger).toMatchObject({ state: 'rejected', query_id: 'q_long' });
    expect((responses[0]!.error as { message: string }).message).toMatch(/longer than 50000 characters/);
  });

  it('a query without query_id is rejected without a response (nobody could match it)', async () => {
    const { ledger, responses } = await rejects('{"type": "query", "question": "who am I?"}');
    expect(ledger).toMatchObject({ state: 'rejected', query_id: null });
    expect(ledger.last_error).toMatch(/query_id/);
    expect(responses).toEqual([]);
  });

  it('a context_file outside the context root, by .. and by absolute path', async () => {
    for (const [qid, file] of [['q_dots', '../../etc/passwd'], ['q_abs', '/etc/passwd']]) {
      const { ledger, responses } = await rejects(JSON.stringify({ type: 'query', query_id: qid, question: 'read it', context_file: file }));
      expect(ledger).toMatchObject({ state: 'rejected', query_id: qid });
      expect((responses[0]!.error as { message: string }).message).toMatch(/outside the context root/);
    }
  });

  it('a context_file that escapes the root through a symlink', async () => {
    const { ledger, responses } = await rejects(JSON.stringify({ type: 'query', query_id: 'q_link', question: 'read it', context_file: 'link.txt' }));
    expect(ledger.state).toBe('rejected');
    expect((responses[0]!.error as { message: string }).message).toMatch(/symbolic link/);
  });

  it('a context_file inside the root travels in the job with line numbers; an answered job keeps only its path', async () => {
    const id = bridge.ask(conv.id, 'q_ctx', 'what does it say?', { context_file: 'docs/RESUME.md' });
    // A question that fails every try: a failed job keeps its context for a retry, so its numbered text can be read.
    const failing = bridge.ask(conv.id, 'q_ctx_fail', 'what does it say? #stub-fail', { context_file: 'docs/RESUME.md' });
    await waitFor('answer', () => bridge.responses(conv.id).some((r) => r.body.query_id === 'q_ctx'));
    const answer = bridge.responses(conv.id).find((r) => r.body.query_id === 'q_ctx')!.body;
    expect(answer.sources).toEqual(['docs/RESUME.md:1']);
    const job = await pipeline.producer.questions.getJob(bridge.jobId(id));
    expect(job!.data.context).toEqual({ path: 'docs/RESUME.md', text: '', truncated: false, dropped: true });
    await waitFor('error response', () => bridge.responses(conv.id).some((r) => r.body.query_id === 'q_ctx_fail'));
    const failed = await pipeline.producer.questions.getJob(bridge.jobId(failing));
    expect(failed!.data.context).toEqual({ path: 'docs/RESUME.md', text: '     1\tline one\n     2\tline two', truncated: false });
  });

  it('invalid job data put on the questions queue by hand is refused with an error response', async () => {
    const id = bridge.ask(conv.id, 'q_tampered', 'fine question');
    // The job that the producer enqueues is replaced by one with bad data before a consumer takes it.
    await waitFor('answered', () => bridge.ledger(id)?.state === 'answered');
    await pipeline.producer.questions.add('question', { messageId: 999_999, conversationId: conv.id, queryId: 'q_bad', question: 42 }, { jobId: 'm-999999' });
    const job = await waitFor('failed job', async () => {
      // State first, then the job: a job read before it failed has no failedReason yet.
      return (await pipeline.producer.questions.getJobState('m-999999')) === 'failed' ? pipeline.producer.questions.getJob('m-999999') : undefined;
    });
    expect(job.failedReason).toMatch(/invalid question job data: question: /);
  });
});

describe('an answer job whose data can never be written', () => {
  it('is not retried for ever: the reconciler sends the asker an error response instead, once', async () => {
    const bridge = BridgeFixture.create();
    onTestFinished(() => bridge.close());
    const conv = bridge.createConversation();
    const { logger, lines } = capturingLogger();
    const redis = testRedis(undefined, logger);
    onTestFinished(async () => {
      await redis.quit();
    });
    // No consumer: the test plays it, with an answer job no writer can use.
    const producer = await Producer.open(
      producerOptions(redis, testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }], reconcileIntervalSec: 1, reconcileGraceMs: 0 }),
      logger,
    );
    onTestFinished(() => producer.close());
    await producer.start();
    const id = bridge.ask(conv.id, 'q_unwritable', 'a question');
    const qid = String((await waitFor('queued', () => bridge.ledger(id)?.job_id)) ?? '');
    const bad = await producer.answers.add('answer', { messageId: id, conversationId: conv.id, queryId: 'q_unwritable', questionJobId: qid, outcome: { kind: 'answer' } }, { jobId: answerJobId(qid, 'answer') });
    await waitFor('the bad answer job failed', async () => (await bad.getState()) === 'failed');
    // While its question job waits, the reconciler leaves the row alone; once it is gone, it acts.
    await producer.questions.remove(qid);

    const response = await waitFor('an error response', () => bridge.responses(conv.id).find((r) => r.body.query_id === 'q_unwritable'));
    expect(response.body.error).toMatchObject({ kind: 'failed' });
    expect(String((response.body.error as { message: string }).message)).toMatch(/^the answer could not be written: invalid answer job data: /);
    expect(bridge.ledger(id)).toMatchObject({ state: 'failed', error_kind: 'failed' });
    // Later passes find nothing to do: the bad job stays failed (for the board), never retried.
    await new Promise((r) => setTimeout(r, 2500));
    expect(bridge.responses(conv.id).filter((r) => r.body.query_id === 'q_unwritable')).toHaveLength(1);
    expect(await bad.getState()).toBe('failed');
    expect(lines.filter((l) => l.msg === 'answer job had failed to write; retrying it')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'answer job holds data that can never be written; sending an error response instead')).toHaveLength(1);
  });
});
