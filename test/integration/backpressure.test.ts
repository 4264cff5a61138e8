import { afterAll, describe, expect, inject, it } from 'vitest';
import type { StatusReport } from '../../src/ops/status/statusReport.js';
import { BridgeFixture } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { expectAnsweredExactlyOnce } from '../support/exactlyOnce.js';
import { testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const MAX_QUEUED = 20;
const QUESTIONS = 150;

describe('backpressure: --max-queued', () => {
  const procs: AutopollProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
  });

  it('a producer with no consumers stops taking at --max-queued, shows it in status, and resumes when consumers come', async () => {
    const redis = inject('redisUrl');
    const prefix = testPrefix();
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const common = ['--redis', redis, '--prefix', prefix];
    const queryIds: string[] = [];
    const messageIds: number[] = [];
    const ask = (i: number) => {
      queryIds.push(`q_${i}`);
      messageIds.push(bridge.ask(conv.id, `q_${i}`, `Question ${i}?`));
    };
    // A backlog before the producer starts (taken as the conversation's backlog), the rest while it holds.
    for (let i = 0; i < QUESTIONS / 2; i++) ask(i);
    const producer = new AutopollProcess(['producer', ...common, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--max-queued', String(MAX_QUEUED), '--poll-interval-ms', '50']);
    procs.push(producer);
    await producer.waitForLog(/questions queue full/);
    for (let i = QUESTIONS / 2; i < QUESTIONS; i++) ask(i);
    const unread = () => (bridge.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE to_session = 'b' AND read = 0").get() as { n: number }).n;
    const taken = () => (bridge.db.prepare('SELECT COUNT(*) AS n FROM autopoll_ledger').get() as { n: number }).n;
    // Held at the limit: the other questions stay unread in the bridge, not queued in Redis.
    await new Promise((r) => setTimeout(r, 1500));
    expect(taken()).toBe(MAX_QUEUED);
    expect(unread()).toBe(QUESTIONS - MAX_QUEUED);

    const held = await runAutopoll(['status', '--json', ...common, '--bridge-db', bridge.path]);
    const report = JSON.parse(held.stdout) as StatusReport;
    expect(report.producers).toHaveLength(1);
    expect(report.producers[0]!.backpressure).toBe(true);
    expect(report.queues.questions.waiting).toBe(MAX_QUEUED);
    expect(report.ledger).toMatchObject({ queued: MAX_QUEUED });

    const consumer = new AutopollProcess(['consumer', ...common, '--answerer', 'stub', '--sessions', '4', '--stub-latency-ms', '5']);
    procs.push(consumer);
    await waitFor('every question answered', () => bridge.responses(conv.id).length === QUESTIONS, 30_000, 50);
    expect(producer.hasLog(/below --max-queued again/)).toBe(true);
    expectAnsweredExactlyOnce(bridge, conv.id, queryIds, messageIds);
    const after = JSON.parse((await runAutopoll(['status', '--json', ...common, '--bridge-db', bridge.path])).stdout) as StatusReport;
    expect(after.producers[0]!.backpressure).toBe(false);
    bridge.close();
  });
});
