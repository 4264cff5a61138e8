import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeFixture, type Conversation } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import { expectAnsweredExactlyOnce } from '../support/exactlyOnce.js';
import { testPrefix } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

/** Real processes of the built CLI, each test with its own redis-server it may kill or flush. */
describe('crashes lose nothing and answer nothing twice', () => {
  const procs: AutopollProcess[] = [];
  const queues: Queue[] = [];
  let redis: RedisServer | undefined;
  let bridge: BridgeFixture | undefined;

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await Promise.all(queues.splice(0).map((q) => q.close()));
    await redis?.stop();
    bridge?.close();
  });

  function producer(conv: Conversation, prefix: string, extra: string[] = []): AutopollProcess {
    const p = new AutopollProcess(['producer', '--redis', redis!.url, '--prefix', prefix, '--bridge-db', bridge!.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50', ...extra]);
    procs.push(p);
    return p;
  }

  function consumer(prefix: string, extra: string[] = []): AutopollProcess {
    const p = new AutopollProcess(['consumer', '--redis', redis!.url, '--prefix', prefix, '--sessions', '4', '--lock-duration-ms', '2000', '--backoff-ms', '100', '--answerer', 'stub', ...extra]);
    procs.push(p);
    return p;
  }

  /** The questions queue, on a connection of its own, closed after the test before its Redis stops. */
  function queue(prefix: string): Queue {
    const questions = new Queue('questions', { connection: { host: '127.0.0.1', port: redis!.port, maxRetriesPerRequest: null }, prefix });
    queues.push(questions);
    return questions;
  }

  function askMany(conv: Conversation, n: number, tag: string): { queryIds: string[]; messageIds: number[] } {
    const queryIds = Array.from({ length: n }, (_, i) => `${tag}_${i}`);
    const messageIds = queryIds.map((q) => bridge!.ask(conv.id, q, `question ${q}`));
    return { queryIds, messageIds };
  }

  it('kill -9 of the producer between ledger insert and enqueue: the restarted producer enqueues from the ledger', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const first = producer(conv, prefix);
    await first.waitForLog(/^producer started$/);
    // With Redis gone the producer takes a batch of questions (ledger + read=1 committed) and then
    // waits to enqueue it, taking no more meanwhile: the window a kill -9 must not lose anything in.
    await redis.kill(true);
    const { queryIds, messageIds } = askMany(conv, 20, 'pk');
    await waitFor('a batch taken into the ledger', () => messageIds.some((id) => bridge!.ledger(id)?.state === 'queued'));
    await new Promise((r) => setTimeout(r, 200));
    await first.kill('SIGKILL');
    const takenAtKill = messageIds.filter((id) => bridge!.ledger(id)?.state === 'queued').length;
    expect(takenAtKill).toBeGreaterThan(0);
    await redis.launch(); // empty: the jobs never reached it
    const second = producer(conv, prefix);
    consumer(prefix);
    await second.waitForLog(/^producer started$/);
    await waitFor('all answered', () => bridge!.responses(conv.id).length >= 20, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);
    expect(second.hasLog(/question missing from Redis; enqueueing it again/)).toBe(true);
  });

  it('kill -9 of a consumer mid-job: another consumer answers its questions once the lock runs out', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    await producer(conv, prefix).waitForLog(/^producer started$/);
    const slow = consumer(prefix, ['--stub-latency-ms', '20000']);
    await slow.waitForLog(/^consumer started$/);
    const { queryIds, messageIds } = askMany(conv, 4, 'ck');
    const questions = queue(prefix);
    await waitFor('4 active jobs', async () => (await questions.getActiveCount()) === 4);
    await slow.kill('SIGKILL');
    consumer(prefix, ['--stub-latency-ms', '10']);
    await waitFor('all answered', () => bridge!.responses(conv.id).length >= 4, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);
    // The crashed run counts as an attempt.
    for (const r of bridge.responses(conv.id)) expect(r.body.attempts).toBe(2);
  });

  it('kill -9 of the producer in the middle of a stream, then a restart: every question answered exactly once', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const first = producer(conv, prefix);
    consumer(prefix, ['--sessions', '16']);
    await first.waitForLog(/^producer started$/);
    const a = askMany(conv, 300, 'ps');
    await waitFor('some answered', () => bridge!.responses(conv.id).length >= 30);
    await first.kill('SIGKILL');
    const b = askMany(conv, 200, 'ps2');
    producer(conv, prefix);
    await waitFor('all answered', () => bridge!.responses(conv.id).length >= 500, 40_000);
    await new Promise((r) => setTimeout(r, 500));
    expectAnsweredExactlyOnce(bridge, conv.id, [...a.queryIds, ...b.queryIds], [...a.messageIds, ...b.messageIds]);
  });

  it('FLUSHALL mid-run: the reconciler re-enqueues every question Redis forgot', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const prod = producer(conv, prefix, ['--reconcile-interval', '1']);
    consumer(prefix, ['--stub-latency-ms', '150', '--sessions', '4']);
    await prod.waitForLog(/^producer started$/);
    const { queryIds, messageIds } = askMany(conv, 100, 'fl');
    await waitFor('a few answered', () => bridge!.responses(conv.id).length >= 10);
    const admin = new Redis(redis.url);
    await admin.flushall().finally(() => admin.disconnect());
    const answeredAtFlush = bridge.responses(conv.id).length;
    expect(answeredAtFlush).toBeLessThan(100);
    await waitFor('all answered', () => bridge!.responses(conv.id).length >= 100, 45_000);
    await new Promise((r) => setTimeout(r, 500));
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);
    expect(prod.hasLog(/reconciler repaired/)).toBe(true);
  });

  it('SIGTERM to a consumer finishes its in-flight questions, then exits 0; SIGTERM to the producer exits 0', async () => {
    redis = await RedisServer.start();
    bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const prefix = testPrefix();
    const prod = producer(conv, prefix);
    const cons = consumer(prefix, ['--stub-latency-ms', '1500']);
    await prod.waitForLog(/^producer started$/);
    await cons.waitForLog(/^consumer started$/);
    const { queryIds, messageIds } = askMany(conv, 3, 'term');
    const questions = queue(prefix);
    await waitFor('3 active jobs', async () => (await questions.getActiveCount()) === 3);
    expect(bridge.responses(conv.id)).toHaveLength(0); // in flight: each takes 1.5 s
    cons.child.kill('SIGTERM');
    expect(await cons.exited).toEqual({ code: 0, signal: null });
    expect(cons.hasLog(/^question answered$/)).toBe(true);
    await waitFor('answers written', () => bridge!.responses(conv.id).length === 3, 15_000);
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);
    prod.child.kill('SIGTERM');
    expect(await prod.exited).toEqual({ code: 0, signal: null });
    expect(prod.hasLog(/^producer stopped$/)).toBe(true);
  });
});
