import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { answerJobId, QUESTIONS_QUEUE } from '../../src/shared/queues.js';
import { BridgeFixture, tempDir, type Conversation } from '../support/bridge.js';
import { runAutopoll } from '../support/cli.js';
import { InProcessPipeline, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

function replay(args: string[], bridge: BridgeFixture, prefix: string) {
  return runAutopoll(['replay', '--redis', inject('redisUrl'), '--prefix', prefix, '--bridge-db', bridge.path, ...args]);
}

describe('autopoll replay', () => {
  const prefix = testPrefix();
  const bridge = BridgeFixture.create(join(tempDir(), 'bridge.db'));
  let c1: Conversation;
  let c2: Conversation;
  let pipeline: InProcessPipeline;
  let questions: Queue;
  const ids: Record<string, number> = {};

  const state = (name: string) => bridge.ledger(ids[name]!)?.state;
  const responsesTo = (queryId: string) => bridge.responses().filter((r) => r.body.query_id === queryId);

  beforeAll(async () => {
    ({ pipeline, conversations: [c1, c2] } = await InProcessPipeline.servingNew(prefix, bridge, 2, { attempts: 1, backoffMs: 0 }));
    questions = new Queue(QUESTIONS_QUEUE, { connection: pipeline.redis, prefix });
    ids.ok = bridge.ask(c1.id, 'q-ok', 'plain question');
    ids.f1 = bridge.ask(c1.id, 'q-f1', 'first #stub-fail-unless-replay');
    ids.f2 = bridge.ask(c2.id, 'q-f2', 'second #stub-fail-unless-replay');
    ids.f3 = bridge.ask(c1.id, 'q-f3', 'always #stub-fail');
    await waitFor('every question settled', () => ['ok', 'f1', 'f2', 'f3'].every((n) => ['answered', 'failed'].includes(String(state(n)))));
  });

  afterAll(async () => {
    await questions?.close();
    await pipeline?.close();
  });

  it('starts from three error responses and one answer', () => {
    expect([state('ok'), state('f1'), state('f2'), state('f3')]).toEqual(['answered', 'failed', 'failed', 'failed']);
    expect(bridge.ledger(ids.f3!)?.error_kind).toBe('stub_failure');
    expect(bridge.ledger(ids.f1!)?.error_kind).toBe('stub_awaiting_replay');
  });

  it('refuses to run without a selector, saying which ones exist', async () => {
    const run = await replay([], bridge, prefix);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--failed.*--query-id/);
  });

  it('--dry-run lists every failed question and changes nothing', async () => {
    const run = await replay(['--failed', '--dry-run'], bridge, prefix);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would replay 3 questions');
    for (const q of ['q-f1', 'q-f2', 'q-f3']) expect(run.stdout).toContain(`query ${q}`);
    expect(run.stdout).not.toContain('query q-ok ');
    expect(await questions.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    expect([state('f1'), state('f2'), state('f3')]).toEqual(['failed', 'failed', 'failed']);
  });

  it('names the --query-id ids it did not find, exit 1, and still replays (here: lists) the others', async () => {
    const run = await replay(['--query-id', 'q-f3', '--query-id', 'q_nope_1', '--query-id', 'q_nope_2', '--dry-run'], bridge, prefix);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`not found: q_nope_1, q_nope_2 (no such query in the ledger of ${bridge.path}: check the ids, and --bridge-db)\n`);
    expect(run.stdout).toContain('would replay 1 question:');
    expect(run.stdout).toContain('query q-f3');
  });

  it('names a --query-id the other selectors leave out, exit 1', async () => {
    const run = await replay(['--query-id', 'q-f1', '--query-id', 'q-f2', '--conversation', c2.id, '--dry-run'], bridge, prefix);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('not selected: q-f1 (in the ledger, but left out by --conversation, --since, --until or --error-kind)\n');
    expect(run.stdout).toContain('would replay 1 question:');
    expect(run.stdout).toContain('query q-f2');
  });

  it('selects by --error-kind, and by --since/--until on the failure time', async () => {
    const byKind = await replay(['--error-kind', 'stub_failure', '--dry-run'], bridge, prefix);
    expect(byKind.stdout).toContain('would replay 1 question:');
    expect(byKind.stdout).toContain('query q-f3');
    const recent = await replay(['--since', '1h', '--dry-run'], bridge, prefix);
    expect(recent.stdout).toContain('would replay 3 questions');
    const old = await replay(['--until', '2020-01-01', '--dry-run'], bridge, prefix);
    expect(old.stdout).toContain('would replay 0 questions');
    const bad = await replay(['--since', 'yesterday-ish'], bridge, prefix);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: "yesterday-ish" is not a time/);
  });

  it('skips and reports a question that is already answered', async () => {
    const run = await replay(['--query-id', 'q-ok'], bridge, prefix);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('skipped query q-ok: already answered');
    expect(run.stdout).toContain('replayed 0');
  });

  it('--conversation replays only that conversation: its answer follows the error response once', async () => {
    const run = await replay(['--conversation', c2.id], bridge, prefix);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('replayed 1 (1 retried, 0 rebuilt');
    await waitFor('q-f2 answered', () => state('f2') === 'answered');
    const [first, second] = responsesTo('q-f2');
    expect(responsesTo('q-f2')).toHaveLength(2);
    expect(first!.body.error).toMatchObject({ kind: 'stub_awaiting_replay' });
    expect(second!.body).toMatchObject({ answer: 'Stub answer to q-f2.' });
    expect(second!.body.error).toBeUndefined();
    expect(state('f1')).toBe('failed');
    // A second replay finds it answered.
    const again = await replay(['--query-id', 'q-f2'], bridge, prefix);
    expect(again.stdout).toContain('skipped query q-f2: already answered');
  });

  it('rebuilds a question whose job Redis no longer holds', async () => {
    await (await questions.getJob(bridge.jobId(ids.f1!)))!.remove();
    const run = await replay(['--query-id', 'q-f1'], bridge, prefix);
    expect(run.stdout).toContain('replayed 1 (0 retried, 1 rebuilt from the bridge)');
    await waitFor('q-f1 answered', () => state('f1') === 'answered');
    expect(responsesTo('q-f1').map((r) => r.body.answer)).toEqual([expect.stringMatching(/could not answer/), 'Stub answer to q-f1.']);
  });

  it("a retry of the failed job (the board's action) is a replay too", async () => {
    const id = bridge.ask(c1.id, 'q-board', 'board #stub-fail-unless-replay');
    await waitFor('q-board failed', () => bridge.ledger(id)?.state === 'failed');
    await (await questions.getJob(bridge.jobId(id)))!.retry('failed');
    await waitFor('q-board answered', () => bridge.ledger(id)?.state === 'answered');
    expect(responsesTo('q-board').map((r) => r.body.answer)).toEqual([expect.stringMatching(/could not answer/), 'Stub answer to q-board.']);
  });

  it('a question that fails again on replay gets no second error response', async () => {
    const run = await replay(['--query-id', 'q-f3'], bridge, prefix);
    expect(run.stdout).toContain('replayed 1');
    await waitFor('q-f3 ran again and failed', async () => {
      const job = await questions.getJob(bridge.jobId(ids.f3!));
      return job!.attemptsStarted >= 2 && (await job!.getState()) === 'failed';
    });
    // The second error went to its own answer job (round 1), which the writer dropped as a duplicate.
    await waitFor('second error processed', async () => (await pipeline.producer.answers.getJob(answerJobId(bridge.jobId(ids.f3!), 'error', 1)))?.finishedOn !== undefined);
    expect(state('f3')).toBe('failed');
    expect(responsesTo('q-f3')).toHaveLength(1);
  });
});
