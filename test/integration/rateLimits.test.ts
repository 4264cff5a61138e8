import { Queue } from 'bullmq';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { QUESTIONS_QUEUE } from '../../src/shared/queues.js';
import { tempDir } from '../support/bridge.js';
import { runAutopoll } from '../support/cli.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { testRedis } from '../support/pipeline.js';
import { CLAUDE_CONSUMER, SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/** What the consumer logs each time it defers a rate-limited question. */
const DEFERRED = 'Claude API overloaded or rate limiting; the question waits';
const MAX_DEFER = 12;

/** The built consumer with the real Claude Code binary, on a fake API that rate limits, and what stays in Redis. */
describe('rate limits and finished jobs', () => {
  let api: FakeAnthropic;
  let pipeline: SpawnedPipeline;
  const redis = testRedis();
  const queues: Queue[] = [];
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
  });
  afterEach(async () => {
    api.responder = echoResponder;
    await Promise.all([...queues.splice(0).map((q) => q.close()), pipeline.stop()]);
  });
  afterAll(() => Promise.all([api.stop(), redis.quit()]));

  /** The pipeline's `questions` queue, read from the test's own connection. */
  const questionsQueue = (p: SpawnedPipeline): Queue => {
    const q = new Queue(QUESTIONS_QUEUE, { connection: redis, prefix: p.prefix });
    queues.push(q);
    return q;
  };

  async function started(consumerFlags: string[], producerFlags: string[] = []): Promise<void> {
    pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    const producer = pipeline.producer(producerFlags);
    const consumer = pipeline.consumer([...CLAUDE_CONSUMER, ...consumerFlags], claudeEnv(api.url));
    await Promise.all([producer.waitForLog(/^producer started$/, 60_000), consumer.waitForLog(/^consumer started$/, 60_000)]).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${producer.stderr}\n${JSON.stringify(producer.lines)}`);
    });
  }

  it('every API call answered 529: the question waits longer each time, unspent, then gets a rate_limited error response at --max-defer; the next question is answered once the API recovers', async () => {
    api.responder = () => ({ kind: 'error', status: 529 });
    await started(['--sessions', '1', '--min-sessions', '1', '--max-defer', String(MAX_DEFER)]);
    const consumer = pipeline.procs[1]!;
    const questions = questionsQueue(pipeline);
    const first = api.messageRequests.length;
    const asked = Date.now();
    pipeline.ask(1, 'q_overloaded');

    let limiterTtl = 0;
    const [row] = await waitFor(
      'the error response',
      async () => {
        // Never a queue-wide limiter: other consumers (other keys) go on taking questions.
        limiterTtl = Math.max(limiterTtl, await questions.getRateLimitTtl());
        const rows = pipeline.bridge.responses(pipeline.conv.id);
        return rows.length ? rows : undefined;
      },
      (MAX_DEFER + 30) * 1000,
      100,
    );
    const elapsed = Date.now() - asked;
    expect(elapsed).toBeGreaterThanOrEqual(MAX_DEFER * 1000);
    expect(elapsed).toBeLessThan((MAX_DEFER + 15) * 1000);
    expect(limiterTtl).toBeLessThanOrEqual(0);
    const error = row!.body.error as { kind: string; message: string };
    expect(row!.body).toMatchObject({ query_id: 'q_overloaded_0', attempts: 1 });
    expect(error.kind).toBe('rate_limited');
    expect(error.message).toMatch(
      new RegExp(`^rate limited: the Claude API is overloaded \\(HTTP 529\\), and it has been for \\d+ s since this question was first deferred \\(the consumer's --max-defer is ${MAX_DEFER} s\\); it was not answered: an operator can run it again with \`autopoll replay\`$`),
    );
    // The job failed (the ledger row too), so `autopoll replay` can run it again.
    await waitFor('the job failed', async () => (await pipeline.status()).queues.questions.failed === 1);

    // Waits that grow (the last one is cut to the --max-defer deadline), jittered, and no hot loop.
    const waits = consumer.lines.filter((l) => l.msg === DEFERRED).map((l) => Number(l.delayMs));
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits.length).toBeLessThanOrEqual(6);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    // The n-th wait is at least half of 1 s * 2^n (a constant or shrinking wait fails this early).
    waits.slice(0, -1).forEach((wait, n) => expect(wait).toBeGreaterThanOrEqual(500 * 2 ** n));
    const calls = api.messageRequests.slice(first).filter((r) => r.text.includes('q_overloaded')).length;
    expect(calls).toBeGreaterThanOrEqual(waits.length + 1);
    expect(calls).toBeLessThanOrEqual(2 * (waits.length + 1));

    api.responder = echoResponder;
    pipeline.ask(1, 'q_recovered');
    await waitFor('the next answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 2, 60_000, 100);
    expect(pipeline.bridge.responses(pipeline.conv.id)[1]!.body).toMatchObject({ query_id: 'q_recovered_1', attempts: 1 });
    expect(pipeline.bridge.responses(pipeline.conv.id)[1]!.body.error).toBeUndefined();

    // The operator asks the rate-limited question again: its answer follows the error response.
    const replay = await runAutopoll(['replay', ...pipeline.common, '--bridge-db', pipeline.bridge.path, '--query-id', 'q_overloaded_0']);
    expect(replay.code).toBe(0);
    await waitFor('the replayed answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 3, 60_000, 100);
    expect(pipeline.bridge.responses(pipeline.conv.id)[2]!.body).toMatchObject({ query_id: 'q_overloaded_0' });
    expect(pipeline.bridge.responses(pipeline.conv.id)[2]!.body.error).toBeUndefined();
  });

  it("an answered question's job keeps no context text in Redis", async () => {
    const root = tempDir('autopoll-context-');
    writeFileSync(join(root, 'notes.md'), 'CANARY-CONTEXT-4417 is what the file says\nsecond line\n');
    await started([], ['--context-root', root]);
    const questions = questionsQueue(pipeline);
    pipeline.queryIds.push('q_ctx');
    pipeline.messageIds.push(pipeline.bridge.ask(pipeline.conv.id, 'q_ctx', 'what does the file say?', { context_file: 'notes.md' }));
    await waitFor('the answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 1, 60_000, 100);
    expect(pipeline.bridge.responses(pipeline.conv.id)[0]!.body.error).toBeUndefined();
    // The context was there while the question was answered...
    expect(api.messageRequests.some((r) => r.text.includes('CANARY-CONTEXT-4417'))).toBe(true);
    await waitFor('the job completed', async () => (await questions.getJobCounts('completed')).completed === 1);

    // ...and the completed job's hash, read with a plain Redis client, no longer holds it.
    const [job] = await questions.getJobs(['completed']);
    const raw = await redis.hget(`${pipeline.prefix}:${QUESTIONS_QUEUE}:${job!.id!}`, 'data');
    expect(raw).not.toContain('CANARY');
    expect(JSON.parse(raw!)).toMatchObject({ queryId: 'q_ctx', question: 'what does the file say?', context: { path: 'notes.md', text: '', truncated: false, dropped: true } });

    // Run again as it is (the board's retry of a completed job), it is refused rather than asked without its context.
    const requests = api.messageRequests.length;
    await job!.retry('completed');
    const failed = await waitFor('the retried job failed', async () => (await questions.getJobs(['failed']))[0], 30_000, 100);
    expect(failed.failedReason).toBe('this question was answered and its context dropped from the job; `autopoll replay` rebuilds it from the bridge');
    expect(api.messageRequests.slice(requests).filter((r) => r.text.includes('what does the file say?'))).toEqual([]);
    expect(pipeline.bridge.responses(pipeline.conv.id)).toHaveLength(1);
  });
});
