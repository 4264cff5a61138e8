import { afterEach, describe, expect, it } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import type { Job } from 'bullmq';
import { InProcessPipeline, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/;

describe('pipeline: bridge -> questions -> consumer -> answers -> bridge', () => {
  let bridge: BridgeFixture;
  let pipeline: InProcessPipeline;

  afterEach(async () => {
    await pipeline?.close();
    bridge?.close();
  });

  it('answers N questions, each query_id exactly once, in rows that look like the bridge own', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }).start();

    const N = 300;
    const ids: number[] = [];
    for (let i = 0; i < N; i++) ids.push(bridge.ask(conv.id, `q_${i}`, `What is ${i}?`));

    const responses = await waitFor('all answers', () => {
      const r = bridge.responses(conv.id);
      return r.length >= N ? r : undefined;
    });
    // Nothing more arrives afterwards: the pipeline is idle, not still writing duplicates.
    await new Promise((r) => setTimeout(r, 300));
    expect(bridge.responses(conv.id)).toHaveLength(N);

    const byQuery = new Map(responses.map((r) => [r.body.query_id, r]));
    expect(byQuery.size).toBe(N);
    for (let i = 0; i < N; i++) {
      const r = byQuery.get(`q_${i}`)!;
      expect(r.body).toMatchObject({ type: 'response', query_id: `q_${i}`, answer: `Stub answer to q_${i}.`, sources: [], shard_id: 'autopoll_shard', llm_type: 'stub', attempts: 1, model: 'stub' });
      expect(typeof r.body.response_time_sec).toBe('number');
      expect(r.metadata).toBe('{"action_type": "response"}');
      expect(r.timestamp).toMatch(TIMESTAMP);
      // Python json.dumps separators, as the bridge's Python clients write.
      expect(r.message.startsWith(`{"type": "response", "query_id": "q_${i}", "answer": `)).toBe(true);
    }

    // Every question is read, in the ledger as answered, and pointed at its response.
    const unread = bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE to_session = 'b' AND read = 0").get() as { n: number };
    expect(unread.n).toBe(0);
    for (const id of ids) {
      const row = bridge.ledger(id)!;
      expect(row.state).toBe('answered');
      expect(row.job_id).toBe(`m-${bridge.bridgeId()}-${id}`);
      expect(byQuery.get(row.query_id)!.id).toBe(row.response_message_id);
    }

    // Audit rows as the bridge writes them: one send_message per response, get_messages counts summing to N.
    const sends = bridge.db
      .prepare("SELECT details, timestamp FROM audit_log WHERE session_id = 'b' AND action = 'send_message' AND conversation_id = ?")
      .all(conv.id) as Array<{ details: string; timestamp: string }>;
    expect(sends).toHaveLength(N);
    const first = responses[0]!;
    expect(sends.map((s) => s.details)).toContain(`{"to": "a", "message_length": ${first.message.length}, "redacted": false}`);
    for (const s of sends) expect(s.timestamp).toMatch(TIMESTAMP);
    const fetches = bridge.db
      .prepare("SELECT details FROM audit_log WHERE session_id = 'b' AND action = 'get_messages' AND conversation_id = ?")
      .all(conv.id) as Array<{ details: string }>;
    const counted = fetches.reduce((sum, f) => sum + (JSON.parse(f.details) as { count: number }).count, 0);
    expect(counted).toBe(N);
    expect(fetches[0]!.details).toMatch(/^\{"count": \d+\}$/);
  });

  it('keeps side b alive in session_status: working while busy, waiting when idle', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }], heartbeatIntervalSec: 1 }, { latencyMs: 1500 }).start();
    const status = () => bridge.db.prepare("SELECT status, last_heartbeat FROM session_status WHERE conversation_id = ? AND session_id = 'b'").get(conv.id) as { status: string; last_heartbeat: string } | undefined;
    await waitFor('waiting heartbeat', () => status()?.status === 'waiting');
    expect(status()!.last_heartbeat).toMatch(TIMESTAMP);
    bridge.ask(conv.id, 'q_slow', 'slow one');
    await waitFor('working heartbeat', () => status()?.status === 'working', 5000);
    await waitFor('answer', () => bridge.responses(conv.id).length === 1);
    await waitFor('waiting again', () => status()?.status === 'waiting', 5000);
  });

  it('retries a failing question with backoff and answers it; a question failing every try gets one error response', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }, { attempts: 3, backoffMs: 50 }).start();
    const flaky = bridge.ask(conv.id, 'q_flaky', 'succeeds on try 3 #stub-fail-until-3');
    const doomed = bridge.ask(conv.id, 'q_doomed', 'never works #stub-fail');
    await waitFor('both responses', () => bridge.responses(conv.id).length === 2);
    const byId = new Map(bridge.responses(conv.id).map((r) => [r.body.query_id, r.body]));
    expect(byId.get('q_flaky')).toMatchObject({ answer: 'Stub answer to q_flaky.', attempts: 3 });
    const err = byId.get('q_doomed')!;
    expect(err).toMatchObject({ type: 'response', query_id: 'q_doomed', error: { kind: 'stub_failure' }, attempts: 3 });
    expect(err.answer).toMatch(/^autopoll could not answer this query \(stub_failure\): /);
    expect(bridge.ledger(flaky)).toMatchObject({ state: 'answered', attempts: 3 });
    expect(bridge.ledger(doomed)).toMatchObject({ state: 'failed', attempts: 3, error_kind: 'stub_failure' });
    // The consumer writes the error response before its throw moves the job to failed.
    const job = await pipeline.producer.questions.getJob(bridge.jobId(doomed));
    await waitFor('the doomed job failed', async () => (await job!.getState()) === 'failed');
  });

  it('drops a second answer for an answered query, and writes a real answer once after an error response', async () => {
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }, { attempts: 1 }).start();
    const ok = bridge.ask(conv.id, 'q_ok', 'fine');
    const bad = bridge.ask(conv.id, 'q_bad', 'fails #stub-fail');
    await waitFor('two responses', () => bridge.responses(conv.id).length === 2);
    const answers = pipeline.producer.answers;
    // Polled, not QueueEvents: an event fired between its ready and its first read is missed.
    const finished = (job: Job) =>
      waitFor(`answer job ${job.id}`, async () => {
        const j = await answers.getJob(job.id!);
        return j && (await j.getState()) === 'completed' ? (j.returnvalue as unknown) : undefined;
      });
    const outcome = { kind: 'answer', answer: 'late duplicate', sources: [] };
    const base = { conversationId: conv.id, llmType: 'stub', attempts: 2 };

    const dup = await answers.add('answer', { ...base, messageId: ok, queryId: 'q_ok', questionJobId: bridge.jobId(ok), outcome }, { jobId: 'dup-1' });
    expect(await finished(dup)).toEqual({ written: false, reason: 'duplicate: the query is already answered' });
    const dupErr = await answers.add('error', { ...base, messageId: bad, queryId: 'q_bad', questionJobId: bridge.jobId(bad), outcome: { kind: 'error', errorKind: 'x', message: 'again' } }, { jobId: 'dup-2' });
    expect(await finished(dupErr)).toEqual({ written: false, reason: 'duplicate: the query already has an error response' });
    expect(bridge.responses(conv.id)).toHaveLength(2);
    expect(bridge.ledger(bad)).toMatchObject({ state: 'failed' });

    // A replay's real answer after the error response goes through once; a second one does not.
    const late = { ...base, messageId: bad, queryId: 'q_bad', questionJobId: bridge.jobId(bad), outcome: { kind: 'answer', answer: 'a late answer', sources: [] } };
    const lateJob = await answers.add('answer', late, { jobId: 'late-1' });
    expect(await finished(lateJob)).toEqual({ written: false, reason: 'late answer after the error response (only a replay may follow one)' });
    const real = { ...base, replay: true, messageId: bad, queryId: 'q_bad', questionJobId: bridge.jobId(bad), outcome: { kind: 'answer', answer: 'the real answer', sources: [] } };
    const replay = await answers.add('answer', real, { jobId: 'replay-1' });
    expect(await finished(replay)).toMatchObject({ written: true, state: 'answered' });
    const again = await answers.add('answer', real, { jobId: 'replay-2' });
    expect(await finished(again)).toMatchObject({ written: false });
    const forBad = bridge.responses(conv.id).filter((r) => r.body.query_id === 'q_bad');
    expect(forBad.map((r) => r.body.answer)).toEqual([expect.stringMatching(/^autopoll could not answer/), 'the real answer']);
    expect(bridge.ledger(bad)).toMatchObject({ state: 'answered', attempts: 2 });
  });
});
