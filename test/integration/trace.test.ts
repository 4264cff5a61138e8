import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BridgeFixture, tempDir, type Conversation } from '../support/bridge.js';
import { runAutopoll } from '../support/cli.js';
import { InProcessPipeline, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

interface TraceJson {
  queryId: string;
  messageId: number;
  conversationId: string;
  state: string;
  attempts: Array<{ round: number; attempt: number; error?: string }>;
  events: Array<{ stage: string; at: string }>;
  consumer: string | null;
  redis: { reached: boolean };
}

describe('autopoll trace', () => {
  const prefix = testPrefix();
  const bridge = BridgeFixture.create(join(tempDir(), 'bridge.db'));
  let c1: Conversation;
  let c2: Conversation;
  let pipeline: InProcessPipeline;
  const ids: Record<string, number> = {};

  const cli = (args: string[], redis = inject('redisUrl')) => runAutopoll(['trace', '--redis', redis, '--prefix', prefix, '--bridge-db', bridge.path, ...args]);
  async function traceJson(args: string[]): Promise<TraceJson[]> {
    const run = await cli([...args, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TraceJson);
  }
  const stages = (t: TraceJson) => t.events.map((e) => e.stage);
  const inOrder = (t: TraceJson) => t.events.every((e, i) => i === 0 || Date.parse(e.at) >= Date.parse(t.events[i - 1]!.at));

  beforeAll(async () => {
    ({ pipeline, conversations: [c1, c2] } = await InProcessPipeline.servingNew(prefix, bridge, 2, { attempts: 2, backoffMs: 0, name: 'trace-consumer' }));
    ids.ok = bridge.ask(c1.id, 'q-ok', 'plain question');
    ids.ok2 = bridge.ask(c2.id, 'q-ok', 'the same query id in another conversation');
    ids.fail = bridge.ask(c1.id, 'q-fail', 'fails until replayed #stub-fail-unless-replay');
    ids.rej = bridge.send(c1.id, JSON.stringify({ type: 'query', query_id: 'q-rej' }));
    await waitFor('every question settled', () => ['ok', 'ok2', 'fail', 'rej'].every((n) => ['answered', 'failed', 'rejected'].includes(String(bridge.ledger(ids[n]!)?.state))));
  });

  afterAll(async () => {
    await pipeline?.close();
  });

  it('follows an answered question from asked to written, in time order, and says who answered', async () => {
    const [t] = await traceJson(['q-ok', '--conversation', c1.id]);
    expect(t).toMatchObject({ queryId: 'q-ok', messageId: ids.ok, conversationId: c1.id, state: 'answered', attempts: [{ round: 0, attempt: 1 }], consumer: 'trace-consumer' });
    expect(stages(t!)).toEqual(['asked', 'taken', 'enqueued', 'started', 'answered', 'written']);
    expect(inOrder(t!)).toBe(true);
    for (const e of t!.events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const text = await cli(['q-ok', '--message-id', String(ids.ok)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}asked +\d{4}-.*Z$/m);
    expect(text.stdout).toMatch(/^ {2}written +\S+ {2}\+\d/m);
    expect(text.stdout).toContain('answered by consumer trace-consumer');
  });

  it('lists every question that asked a query id, one JSON object a line; --conversation narrows', async () => {
    const all = await traceJson(['q-ok']);
    expect(all.map((t) => [t.messageId, t.conversationId])).toEqual([[ids.ok, c1.id], [ids.ok2, c2.id]]);
    const narrowed = await traceJson(['q-ok', '--conversation', c2.id]);
    expect(narrowed.map((t) => t.messageId)).toEqual([ids.ok2]);
  });

  it('shows a question that failed, was replayed and then answered: every attempt, its error, and the replay', async () => {
    const [before] = await traceJson(['q-fail']);
    expect(before!.state).toBe('failed');
    expect(stages(before!)).toEqual(['asked', 'taken', 'enqueued', 'started', 'failed', 'error_written']);
    const replay = await runAutopoll(['replay', '--redis', inject('redisUrl'), '--prefix', prefix, '--bridge-db', bridge.path, '--query-id', 'q-fail']);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor('q-fail answered', () => bridge.ledger(ids.fail!)?.state === 'answered');
    const [t] = await traceJson(['q-fail']);
    expect(t!.state).toBe('answered');
    expect(stages(t!)).toEqual(['asked', 'taken', 'enqueued', 'failed', 'error_written', 'replayed', 'started', 'answered', 'written']);
    expect(inOrder(t!)).toBe(true);
    expect(t!.attempts).toEqual([
      { round: 0, attempt: 1, error: expect.stringMatching(/^stub_awaiting_replay: /) },
      { round: 0, attempt: 2, error: expect.stringMatching(/^stub_awaiting_replay: /) },
      { round: 1, attempt: 1 },
    ]);
  });

  it('shows a question rejected at take with the ledger state rejected (exit 0)', async () => {
    const [t] = await traceJson(['q-rej']);
    expect(t).toMatchObject({ queryId: 'q-rej', messageId: ids.rej, state: 'rejected', attempts: [] });
    expect(stages(t!)).toEqual(['asked', 'taken', 'error_written']);
  });

  it('exits 3 with a clear message for an unknown query id, or one the flags leave out', async () => {
    const unknown = await cli(['q-nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(`not found: no question with query id q-nope in bridge file ${bridge.path} (check the id, --conversation and --bridge-db)\n`);
    expect((await cli(['q-ok', '--message-id', String(ids.fail)])).code).toBe(3);
  });

  it("still prints the bridge's side when Redis does not answer, and says so", async () => {
    const run = await cli(['q-ok', '--conversation', c1.id], 'redis://127.0.0.1:1');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Redis was not reached');
    expect(run.stdout).toMatch(/^ {2}written /m);
  });

  it('refuses bad flags with exit 2', async () => {
    expect((await cli(['q-ok', '--message-id', 'x'])).stderr).toContain('--message-id (env AUTOPOLL_TRACE_MESSAGE_ID): expected a whole number');
    expect((await cli([])).code).toBe(2);
  });
});
