import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { StatusReport } from '../../src/ops/status/statusReport.js';
import { CONSUMERS } from '../../src/shared/ConsumerPresence.js';
import { presenceKey } from '../../src/shared/Presence.js';
import { BridgeFixture, tempDir, type Conversation } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { testPrefix, testRedis } from '../support/pipeline.js';
import { freePort } from '../support/redisServer.js';
import { waitFor } from '../support/wait.js';

const ANSWERED = 4;
const FAILED = 2;
const REJECTED = 3;
const WAITING = 3;
const ROLE = 'status_shard';

/**
 * A known state built with the real processes (producer, consumer c1 with 3 stub sessions, one
 * attempt per question), then every number `status` prints checked against it.
 */
describe('autopoll status', () => {
  const redisUrl = inject('redisUrl');
  const prefix = testPrefix();
  let bridge: BridgeFixture;
  let conv: Conversation;
  let producer: AutopollProcess;
  let consumer: AutopollProcess;
  let redis: Redis;
  let questions: Queue;

  const ledgerCounts = () =>
    Object.fromEntries((bridge.db.prepare('SELECT state, COUNT(*) AS n FROM autopoll_ledger GROUP BY state').all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));
  const status = (...extra: string[]) => runAutopoll(['status', '--redis', redisUrl, '--prefix', prefix, '--bridge-db', bridge.path, ...extra]);

  beforeAll(async () => {
    bridge = BridgeFixture.create();
    conv = bridge.createConversation({ role: ROLE });
    redis = testRedis();
    questions = new Queue('questions', { connection: redis, prefix });
    producer = new AutopollProcess(['producer', '--bridge-db', bridge.path, '--role', ROLE, '--redis', redisUrl, '--prefix', prefix]);
    consumer = new AutopollProcess(['consumer', '--answerer', 'stub', '--name', 'c1', '--sessions', '3', '--attempts', '1', '--backoff-ms', '0', '--redis', redisUrl, '--prefix', prefix]);
    await producer.waitForLog(/producer started/);
    await consumer.waitForLog(/consumer started/);

    for (let i = 0; i < ANSWERED; i++) bridge.ask(conv.id, `q_ok_${i}`, `Question ${i}?`);
    for (let i = 0; i < FAILED; i++) bridge.ask(conv.id, `q_fail_${i}`, `Question ${i}? #stub-fail`);
    bridge.send(conv.id, 'not JSON at all');
    bridge.send(conv.id, '{"type": "status", "state": "fine"}');
    bridge.send(conv.id, '{"type": "query", "query_id": "q_no_question"}');
    await waitFor('answers and error responses', () => {
      const c = ledgerCounts();
      return c.answered === ANSWERED && c.failed === FAILED && c.rejected === REJECTED;
    });

    // The consumer stays connected but takes nothing more: these questions wait.
    await questions.pause();
    for (let i = 0; i < WAITING; i++) bridge.ask(conv.id, `q_wait_${i}`, `Waiting question ${i}?`);
    await waitFor('waiting questions', async () => (await questions.getJobCounts('waiting')).waiting === WAITING);
    await sleep(50); // the oldest has waited a measurable time
  });

  afterAll(async () => {
    await Promise.all([producer?.kill('SIGTERM'), consumer?.kill('SIGTERM')]);
    await questions?.close();
    await redis?.quit();
    bridge?.close();
  });

  it('--json: ledger, queues, consumers, producers, conversations and the oldest wait, exactly', async () => {
    const { code, stdout, stderr } = await status('--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as StatusReport;
    const expiresAt = (bridge.db.prepare('SELECT expires_at FROM conversations WHERE id = ?').get(conv.id) as { expires_at: string }).expires_at;
    const producerName = report.producers[0]?.name;

    expect(report.ledger).toEqual({ queued: WAITING, answered: ANSWERED, failed: FAILED, rejected: REJECTED });
    expect(report.bridge).toEqual({ path: bridge.path, error: null });
    expect(report.queues).toEqual({
      questions: { waiting: WAITING, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0, completed: ANSWERED, failed: FAILED },
      answers: { waiting: 0, active: 0, delayed: 0, prioritized: 0, 'waiting-children': 0, completed: ANSWERED + FAILED, failed: 0 },
    });
    expect(report.workers).toEqual({ questions: 1, answers: 1 });
    expect(report.pausedQueues).toEqual(['questions']);
    expect(report.consumers).toEqual([
      expect.objectContaining({ name: 'c1', pid: consumer.child.pid, answerer: 'stub', sessions: 3, busy: 0, sessionPids: [], state: 'running' }),
    ]);
    expect(report.producers).toEqual([
      expect.objectContaining({
        pid: producer.child.pid,
        role: ROLE,
        bridgeDb: resolve(bridge.path),
        conversations: [{ id: conv.id, expiresAt }],
        backpressure: false,
      }),
    ]);
    expect(producerName).toMatch(new RegExp(`-${producer.child.pid}$`));
    expect(report.conversations).toEqual([
      { id: conv.id, expiresAt, servedBy: [producerName], sideB: { status: expect.stringMatching(/^(working|waiting)$/), lastHeartbeat: expect.any(String) } },
    ]);
    expect(report.oldestWaitingSeconds).toBeGreaterThan(0);
    expect(report.oldestWaitingSeconds).toBeLessThan(60);
  });

  it('the table shows the same numbers', async () => {
    const { code, stdout } = await status();
    expect(code).toBe(0);
    expect(stdout).toContain(`Ledger (${bridge.path}): queued ${WAITING}, answered ${ANSWERED}, failed ${FAILED}, rejected ${REJECTED}`);
    expect(stdout).toMatch(new RegExp(`questions \\(paused\\) +${WAITING} +0 +0 +0 +0 +${ANSWERED} +${FAILED} +1\\n`));
    expect(stdout).toMatch(new RegExp(`answers +0 +0 +0 +0 +0 +${ANSWERED + FAILED} +0 +1\\n`));
    // Seconds under a minute, minutes and seconds past it (a loaded machine can take that long).
    expect(stdout).toMatch(/Oldest waiting question: (\d+(\.\d)?s|\d+m\d{2}s)\n/);
    expect(stdout).toMatch(new RegExp(`Consumers: 1 \\(BullMQ counts 1 worker on questions\\)\\n +NAME.*\\n +c1 +\\S+ +${consumer.child.pid} +stub +running +3 +0 +- +`));
    expect(stdout).toMatch(new RegExp(`Producers: 1\\n +NAME.*\\n +\\S+-${producer.child.pid} +\\S+ +${producer.child.pid} +${ROLE} +1 +no +${resolve(bridge.path)} +`));
    expect(stdout).toMatch(new RegExp(`Conversations served: 1\\n.*\\n +${conv.id} +\\S+ +2h5\\dm +\\S+-${producer.child.pid} +(working|waiting), `));
  });

  it('a hostile consumer entry in Redis cannot forge lines or drive the terminal, and one of an unknown state is shown, not erased', async () => {
    const hostile = testPrefix();
    const key = presenceKey(hostile, CONSUMERS);
    const entry = (name: string, state: string, reason: string) =>
      JSON.stringify({ name, host: 'h', pid: 1, answerer: 'claude', sessions: 1, sessionPids: [], busy: 0, state, reason, startedAt: Date.now(), seenAt: Date.now() });
    await redis.hset(key, {
      evil: entry('evil\n  good1 stopped: forged\u001b]0;pwned\u0007', 'stopped', `x\u001b[2J\u001b[H\n  good2 stopped: forged${'!'.repeat(5000)}`),
      newer: entry('newer', 'draining', 'finishing its questions'),
    });
    const { code, stdout } = await runAutopoll(['status', '--redis', redisUrl, '--prefix', hostile, '--bridge-db', bridge.path]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    // The forged lines stay inside the entry's own lines: none starts with a name of its own.
    expect(stdout).not.toMatch(/^ {2}good[12] /m);
    expect(stdout.split('\n').filter((l) => l.startsWith('  evil ') && l.includes(' stopped: x '))).toHaveLength(1);
    expect(stdout).toContain('  newer draining: finishing its questions\n');
    expect(stdout).toContain('Consumers: 2, 2 stopped');
    expect(stdout.split('\n').every((l) => l.length < 1300)).toBe(true);
    // status keeps what it could read: a newer consumer's entry is not deleted by an older status.
    expect((await redis.hkeys(key)).sort()).toEqual(['evil', 'newer']);
  });

  it('a missing bridge file is one line; the rest is shown', async () => {
    const missing = join(tempDir(), 'none.db');
    const { code, stdout } = await runAutopoll(['status', '--redis', redisUrl, '--prefix', prefix, '--bridge-db', missing]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Ledger: bridge file ${missing} does not exist; pass --bridge-db (env BRIDGE_DB)`);
    expect(stdout).toMatch(/Consumers: 1 /);
    const json = await runAutopoll(['status', '--json', '--redis', redisUrl, '--prefix', prefix, '--bridge-db', missing]);
    const report = JSON.parse(json.stdout) as StatusReport;
    expect(report.ledger).toBeNull();
    expect(report.bridge.error).toContain('does not exist');
    expect(report.conversations.map((c) => c.id)).toEqual([conv.id]); // from the producer's presence
  });

  it('an unreachable Redis: exit 1 and one line, quickly', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runAutopoll(['status', '--redis', 'redis://127.0.0.1:1', '--bridge-db', bridge.path]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^autopoll: Redis at redis:\/\/127.0.0.1:1 is unreachable \(ECONNREFUSED\)\. Start a Redis on 127\.0\.0\.1:1 with .*, or set REDIS_URL\.\n$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an unreachable Redis with a password: the hint names the host:port it tried, never the password', async () => {
    const port = await freePort();
    const { code, stderr } = await runAutopoll(['status', '--redis', `redis://app:s3cret-pw@localhost:${port}/2`, '--bridge-db', bridge.path]);
    expect(code).toBe(1);
    expect(stderr).toContain(`autopoll: Redis at redis://app:***@localhost:${port}/2 is unreachable (ECONNREFUSED)`);
    expect(stderr).toContain(`Start a Redis on localhost:${port} with \`redis-server --port ${port} --appendonly yes --maxmemory-policy noeviction\``);
    expect(stderr).not.toContain('s3cret-pw');
  });

  it('a server that accepts and never answers: exit 1, no hang', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const { code, stderr } = await runAutopoll(['status', '--redis', url, '--bridge-db', bridge.path], {}, 20_000);
      expect(code).toBe(1);
      expect(stderr).toContain(`autopoll: Redis at ${url} is unreachable (Command timed out)`);
    } finally {
      silent.close();
    }
  });
});
