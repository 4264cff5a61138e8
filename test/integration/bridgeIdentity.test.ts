import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { readiness, bridgeCheck } from '../../src/board/readiness.js';
import { openBridgeDatabase } from '../../src/bridge/BridgeDatabase.js';
import { AUTOPOLL_SCHEMA } from '../../src/bridge/bridgeSchema.js';
import { presenceKey } from '../../src/shared/Presence.js';
import { PRODUCERS } from '../../src/shared/ProducerPresence.js';
import { ANSWERS_QUEUE, answerJobId, QUESTIONS_QUEUE } from '../../src/shared/queues.js';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import type { AutopollProcess } from '../support/cli.js';
import { expectAnsweredExactlyOnce } from '../support/exactlyOnce.js';
import { SpawnedPipeline, STUB_CONSUMER } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * Bridge identity, from outside: the built CLI on real SQLite files and a real Redis. Each bridge
 * file has an id that every job and job id carries; producers of two bridge files do not share a
 * --prefix, answers never reach another bridge's file, and a producer whose bridge file is
 * replaced or deleted under it writes nothing more and exits.
 */
const redisArgs = () => ['--redis', inject('redisUrl')];
let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(() => redis.quit());

function pipeline(): SpawnedPipeline {
  const p = new SpawnedPipeline(redisArgs());
  onTestFinished(() => p.stop());
  return p;
}

/** A second bridge file with one conversation, and `autopoll producer` for it over `prefix`. */
function otherBridge(p: SpawnedPipeline, prefix: string, extra: string[] = []) {
  const bridge = BridgeFixture.create();
  onTestFinished(() => bridge.close());
  const conv = bridge.createConversation();
  const producer = p.spawn(['producer', ...redisArgs(), '--prefix', prefix, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--poll-interval-ms', '50', ...extra]);
  return { bridge, conv, producer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Generous: on a loaded machine node takes a while to start. */
const STARTUP_MS = 60_000;

/** The pipeline's producer and stub consumer, both started. */
async function started(p: SpawnedPipeline): Promise<AutopollProcess> {
  const producer = p.producer();
  await Promise.all([producer.waitForLog(/^producer started$/, STARTUP_MS), p.consumer().waitForLog(/^consumer started$/, STARTUP_MS)]);
  return producer;
}

describe('one bridge per prefix', { timeout: 180_000 }, () => {
  it("a producer of another bridge file refuses to start under a live producer's --prefix; one of the same file starts", async () => {
    const p = pipeline();
    await p.producer().waitForLog(/^producer started$/, STARTUP_MS);
    const other = otherBridge(p, p.prefix);
    expect((await other.producer.exited).code).toBe(2);
    expect(other.producer.stderr).toContain(`serves bridge ${p.bridge.bridgeId()}`);
    expect(other.producer.stderr).toContain(`under --prefix ${p.prefix}`);
    expect(other.producer.stderr).toContain('Give this bridge its own --prefix');
    // It took nothing from its bridge.
    const asked = other.bridge.ask(other.conv.id, 'q_other', 'anyone?');
    await sleep(300);
    expect(other.bridge.ledger(asked)).toBeUndefined();

    const twin = p.producer();
    await twin.waitForLog(/^producer started$/, STARTUP_MS);
    p.consumer();
    p.ask(5, 'same_file');
    await p.expectAllAnsweredOnce();
  });

  it('an answer job naming another bridge writes nothing into this one and fails with both ids', async () => {
    const p = pipeline();
    const producer = p.producer();
    await producer.waitForLog(/^producer started$/, STARTUP_MS);
    p.ask(1, 'q');
    const messageId = p.messageIds[0]!;
    await waitFor('taken', () => p.bridge.ledger(messageId)?.state === 'queued');
    const foreign = 'f00dfeedf00dfeed';
    const answers = new Queue(ANSWERS_QUEUE, { connection: redis, prefix: p.prefix });
    onTestFinished(() => answers.close());
    // What another bridge's consumer sends for its own message with the same id.
    const qid = `m-${foreign}-${messageId}`;
    const job = await answers.add('answer', {
      bridgeId: foreign, messageId, conversationId: p.conv.id, queryId: 'q_0', questionJobId: qid, llmType: 'stub', attempts: 1,
      outcome: { kind: 'answer', answer: 'meant for another bridge', sources: [] },
    }, { jobId: answerJobId(qid, 'answer') });
    const failed = await waitFor('the foreign answer failed', async () => {
      // State first, then the job: a job read before it failed has no failedReason yet.
      return (await answers.getJobState(job.id!)) === 'failed' ? answers.getJob(job.id!) : undefined;
    });
    expect(failed.failedReason).toContain(`for bridge ${foreign}`);
    expect(failed.failedReason).toContain(`serves bridge ${p.bridge.bridgeId()}`);
    expect(p.bridge.responses()).toEqual([]);
    expect(p.bridge.ledger(messageId)).toMatchObject({ state: 'queued' });
    expect(producer.lines.some((l) => l.answerBridge === foreign && l.bridgeId === p.bridge.bridgeId())).toBe(true);
    // Its own answer still comes, once.
    p.consumer();
    await p.expectAllAnsweredOnce();
    expect(p.bridge.responses()[0]!.body.answer).not.toContain('another bridge');
  });

  it('with the check bypassed, two bridges under one prefix get each of their 40 questions answered once, on their own file', async () => {
    const p = pipeline();
    await p.producer(['--reconcile-interval', '1']).waitForLog(/^producer started$/, STARTUP_MS);
    // The first producer's presence is gone (as when Redis lost it) until the second has started:
    // the second does not see it.
    const bypass = setInterval(() => void redis.del(presenceKey(p.prefix, PRODUCERS)), 20);
    const other = otherBridge(p, p.prefix, ['--reconcile-interval', '1']);
    try {
      await other.producer.waitForLog(/^producer started$/, STARTUP_MS);
    } finally {
      clearInterval(bypass);
    }
    p.consumer([...STUB_CONSUMER, '--sessions', '8']);
    const otherIds: string[] = [];
    const otherMessages: number[] = [];
    for (let i = 0; i < 40; i++) {
      p.ask(1, 'one');
      otherIds.push(`two_${i}`);
      otherMessages.push(other.bridge.ask(other.conv.id, `two_${i}`, `question two_${i}`));
    }
    await p.expectAllAnsweredOnce(60_000);
    await waitFor('40 answers on the second bridge', () => other.bridge.responses(other.conv.id).length >= 40, 60_000, 50);
    await sleep(500);
    expectAnsweredExactlyOnce(other.bridge, other.conv.id, otherIds, otherMessages);
    // Each answer is its own question's (the stub names the query it answered), not the other bridge's.
    for (const r of [...p.bridge.responses(), ...other.bridge.responses()]) expect(r.body.answer).toBe(`Stub answer to ${String(r.body.query_id)}.`);
  });
});

describe('a bridge file replaced or deleted under a running producer', { timeout: 180_000 }, () => {
  /** The responses (side b rows) and read questions a file holds. */
  const written = (b: BridgeFixture) => b.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE from_session = 'b' OR read = 1").get() as { n: number };

  async function answered(p: SpawnedPipeline): Promise<{ producer: AutopollProcess }> {
    const producer = await started(p);
    p.ask(3, 'before');
    await p.expectAllAnsweredOnce();
    return { producer };
  }

  async function expectLost(producer: AutopollProcess, what: RegExp): Promise<void> {
    expect((await producer.exited).code).toBe(1);
    const lost = producer.lines.filter((l) => /^bridge file lost: /.test(String(l.msg)));
    expect(lost).toHaveLength(1);
    expect(String(lost[0]!.msg)).toMatch(what);
  }

  it('replaced (moved away, a copy put at its path): nothing more is written into either file, and the producer exits 1', async () => {
    const p = pipeline();
    const { producer } = await answered(p);
    const path = p.bridge.path;
    const copyPath = `${tempDir()}/copy.db`;
    p.bridge.db.exec(`VACUUM INTO '${copyPath}'`);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, `${path}.moved${suffix}`);
    renameSync(copyPath, path);
    const fresh = new BridgeFixture(path);
    onTestFinished(() => fresh.close());
    // Same bridge id (a copy), another file: the id alone would not tell them apart.
    expect(fresh.bridgeId()).toBe(p.bridge.bridgeId());
    const before = { orphan: written(p.bridge).n, fresh: written(fresh).n };
    p.bridge.ask(p.conv.id, 'after_orphan', 'into the moved file');
    fresh.ask(p.conv.id, 'after_fresh', 'into the new file');
    // Seen as replaced, or (when it looked between the two renames) as moved away.
    await expectLost(producer, /was replaced by another file|was deleted \(or moved away\)/);
    await sleep(300);
    expect({ orphan: written(p.bridge).n, fresh: written(fresh).n }).toEqual(before);
  });

  it('deleted: nothing more is written into the orphan, and the producer exits 1', async () => {
    const p = pipeline();
    const { producer } = await answered(p);
    const before = written(p.bridge).n;
    rmSync(p.bridge.path);
    // The test's handle still reaches the deleted file, as the producer's does.
    p.bridge.ask(p.conv.id, 'after_delete', 'into the deleted file');
    await expectLost(producer, /was deleted/);
    expect(written(p.bridge).n).toBe(before);
  });

  it('/readyz says so: the bridge check fails with the reason, for a file replaced by another', async () => {
    const bridge = BridgeFixture.create();
    onTestFinished(() => bridge.close());
    const { db } = openBridgeDatabase(bridge.path, { busyTimeoutMs: 1000 });
    onTestFinished(() => void db.close());
    expect((await readiness([bridgeCheck(db, bridge.path)])).ready).toBe(true);
    renameSync(bridge.path, `${bridge.path}.moved`);
    const replacement = BridgeFixture.create(bridge.path);
    onTestFinished(() => replacement.close());
    expect(await readiness([bridgeCheck(db, bridge.path)])).toEqual({
      ready: false,
      checks: [{ name: 'bridge', ok: false, detail: expect.stringMatching(/bridge file .* was replaced by another file/) }],
    });
  });
});

describe('an upgrade: jobs made before bridge identity still in Redis', { timeout: 180_000 }, () => {
  it('every ledger row taken by the old version is answered once, under its old job id', async () => {
    const p = pipeline();
    // What the old version left: two questions taken into the ledger with `m-<id>` job ids; one
    // job still waiting in Redis (its data without a bridge id), the other lost by Redis.
    p.bridge.db.exec(AUTOPOLL_SCHEMA);
    p.ask(2, 'old');
    const [waiting, lost] = p.messageIds as [number, number];
    const take = p.bridge.db.prepare(
      "INSERT INTO autopoll_ledger (message_id, conversation_id, query_id, state, job_id, taken_at, updated_at) VALUES (?, ?, ?, 'queued', ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
    );
    for (const [i, id] of [waiting, lost].entries()) {
      p.bridge.db.prepare('UPDATE messages SET read = 1 WHERE id = ?').run(id);
      take.run(id, p.conv.id, p.queryIds[i], `m-${id}`);
    }
    const questions = new Queue(QUESTIONS_QUEUE, { connection: redis, prefix: p.prefix });
    onTestFinished(() => questions.close());
    await questions.add('question', { messageId: waiting, conversationId: p.conv.id, queryId: p.queryIds[0], question: 'question old_0' }, { jobId: `m-${waiting}` });

    await started(p);
    p.ask(2, 'new');
    await p.expectAllAnsweredOnce();
    expect(p.bridge.ledger(lost)).toMatchObject({ job_id: `m-${lost}`, state: 'answered' });
    expect(p.bridge.ledger(p.messageIds[2]!)).toMatchObject({ job_id: p.bridge.jobId(p.messageIds[2]!) });
  });
});
