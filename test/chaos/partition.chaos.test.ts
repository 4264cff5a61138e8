import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/bridge.js';
import type { AutopollProcess } from '../support/cli.js';
import { waitForPing } from '../support/redisProcesses.js';
import { freePort } from '../support/redisServer.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';
import { ProcessMarker } from '../support/leftovers.js';
import { NamespacedAutopoll, NetnsLink } from './support/netns.js';

/**
 * Scenario 3, a network partition: a consumer in its own network namespace, reaching Redis over a
 * veth pair, holds a question when its link goes silent for 60 s. Its lock expires, BullMQ's
 * stalled check hands the question to the consumer on the host, which answers it; when the link
 * comes back the partitioned consumer finishes its run, and its late answer must not reach the
 * bridge a second time. Meanwhile a stream of other questions flows, each answered exactly once.
 */

const PARTITION_MS = 60_000;
const LOCK_MS = 5_000;
const NS_LATENCY_MS = 8_000;
const HOST_NAME = 'host-consumer';
const NS_NAME = 'netns-consumer';

const t0 = Date.now();
function note(what: string): void {
  console.log(`[partition +${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
}

/** A redis-server of the scenario's own, bound to loopback and the host end of the veth, carrying the marker. */
class MarkedRedis {
  readonly dir = tempDir('autopoll-partition-redis-');
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(readonly port: number, binds: string[], env: Record<string, string>) {
    this.child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', ...binds, '--protected-mode', 'no', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore', detached: true, env: { ...process.env, ...env } },
    );
    this.child.once('error', () => undefined);
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function linesAbout(lines: Array<Record<string, unknown>>, msg: RegExp, messageId: number): Array<Record<string, unknown>> {
  return lines.filter((l) => msg.test(String(l.msg)) && l.messageId === messageId);
}

describe('network partition of a consumer holding a question', () => {
  const marker = new ProcessMarker();
  let link: NetnsLink | undefined;
  let redis: MarkedRedis | undefined;
  let pipeline: SpawnedPipeline | undefined;
  let nsConsumer: NamespacedAutopoll | undefined;
  let probe: Redis | undefined;
  let questions: Queue | undefined;
  let stream: NodeJS.Timeout | undefined;
  let tornDown = false;

  async function teardown(): Promise<void> {
    if (tornDown) return;
    tornDown = true;
    if (stream) clearInterval(stream);
    // Heal first: a process blocked on a silent socket still dies by SIGKILL, but be tidy.
    try {
      link?.heal();
    } catch {
      // not partitioned
    }
    await nsConsumer?.kill('SIGKILL');
    await questions?.close().catch(() => undefined);
    probe?.disconnect();
    await pipeline?.stop();
    await redis?.stop();
    link?.destroy();
  }

  afterAll(teardown, 60_000);

  it('re-runs the held question elsewhere and writes its answer once; the stream is answered exactly once', async () => {
    link = NetnsLink.create();
    note(`namespace ${link.ns}: ${link.hostIf} ${link.hostAddr} <-> ${link.nsIf} ${link.nsAddr}`);
    const port = await freePort();
    redis = new MarkedRedis(port, ['127.0.0.1', link.hostAddr], marker.env);
    await waitForPing(port);
    const hostUrl = `redis://127.0.0.1:${port}`;
    const nsUrl = `redis://${link.hostAddr}:${port}`;

    pipeline = new SpawnedPipeline(['--redis', hostUrl], marker.env);
    const { producer, consumer: hostConsumer } = await pipeline.start({
      consumer: ['--stub-latency-ms', '300', '--lock-duration-ms', String(LOCK_MS), '--name', HOST_NAME],
    });
    // Debug level: BullMQ's lock errors are logged there ("questions worker connection error").
    nsConsumer = new NamespacedAutopoll(
      link.ns,
      ['consumer', '--redis', nsUrl, '--prefix', pipeline.prefix, '--answerer', 'stub', '--sessions', '1', '--stub-latency-ms', String(NS_LATENCY_MS), '--lock-duration-ms', String(LOCK_MS), '--name', NS_NAME],
      { ...marker.env, LOG_LEVEL: 'debug' },
    );
    await nsConsumer.waitForLog(/^consumer started$/);
    const ns = nsConsumer;
    note('producer, host consumer and namespaced consumer started');

    probe = new Redis(hostUrl, { maxRetriesPerRequest: null });
    questions = new Queue('questions', { connection: probe, prefix: pipeline.prefix });
    const q = questions;
    const p = pipeline;

    // A steady stream of questions, 2 a second, for the whole scenario.
    p.ask(2, 's');
    stream = setInterval(() => p.ask(1, 's'), 500);

    // Wait for the namespaced consumer to hold one, early in its 8 s run.
    const victim = await waitFor(
      'the namespaced consumer to hold a question',
      async () => (await q.getActive()).find((j: Job) => j.processedBy === NS_NAME && j.processedOn !== undefined && Date.now() - j.processedOn < 2_500),
      60_000,
      100,
    );
    const victimMessageId = (victim.data as { messageId: number }).messageId;
    const victimQueryId = (victim.data as { queryId: string }).queryId;
    expect(linesAbout(ns.lines, /^question answered$/, victimMessageId)).toEqual([]);

    const method = link.partition();
    const cutAt = Date.now();
    note(`job ${victim.id} (query ${victimQueryId}) held by ${NS_NAME}; link cut (${method}) for ${PARTITION_MS / 1000} s`);

    // The lock runs out, the host consumer's stalled check moves the job back, the host answers it.
    await waitFor(
      `the held question ${victimQueryId} answered by the other consumer during the partition`,
      () => pipeline!.bridge.responses(pipeline!.conv.id).some((r) => r.body.query_id === victimQueryId),
      45_000,
      100,
    );
    note(`held question answered ${((Date.now() - cutAt) / 1000).toFixed(1)} s into the partition`);
    expect(linesAbout(hostConsumer.lines, /^question answered$/, victimMessageId), 'the host consumer answered it').toHaveLength(1);
    expect(linesAbout(ns.lines, /^question answered$/, victimMessageId), 'the partitioned consumer has not sent anything yet').toEqual([]);
    const rerun = await q.getJob(victim.id!);
    expect(rerun?.processedBy).toBe(HOST_NAME);
    expect(rerun?.stalledCounter, 'moved back to wait by the stalled check').toBeGreaterThanOrEqual(1);
    expect(await rerun?.getState()).toBe('completed');

    // The rest of the partition: the stream goes on through the host consumer.
    const answeredAtCut = pipeline.bridge.responses(pipeline.conv.id).length;
    await sleep(Math.max(0, cutAt + PARTITION_MS - Date.now()));
    const answeredDuring = pipeline.bridge.responses(pipeline.conv.id).length - answeredAtCut;
    note(`${answeredDuring} more answers written during the rest of the partition`);
    expect(answeredDuring).toBeGreaterThan(20);
    expect(ns.child.exitCode, 'the partitioned consumer is still running').toBeNull();
    link.heal();
    const healedAt = Date.now();
    note('link restored');

    // The partitioned consumer finishes its run: its answer goes to Redis once its socket delivers again.
    await waitFor(`the partitioned consumer's late answer to ${victimQueryId} sent`, () => linesAbout(ns.lines, /^question answered$/, victimMessageId).length > 0, 120_000, 100);
    note(`late answer sent ${((Date.now() - healedAt) / 1000).toFixed(1)} s after the link came back`);
    await sleep(3_000);

    // Exactly one answer for it in the bridge, and which path dropped the late one.
    const victimResponses = pipeline.bridge.responses(pipeline.conv.id).filter((r) => r.body.query_id === victimQueryId);
    expect(victimResponses, `responses to the held question ${victimQueryId}`).toHaveLength(1);
    const answerJobId = `a-${victim.id}`;
    const events = (await probe.xrange(`${pipeline.prefix}:answers:events`, '-', '+')) as Array<[string, string[]]>;
    const duplicated = events.filter(([, f]) => f[f.indexOf('event') + 1] === 'duplicated' && f[f.indexOf('jobId') + 1] === answerJobId);
    const dropped = linesAbout(producer.lines, /^answer dropped$/, victimMessageId);
    const aboutVictim = new RegExp(`job ${victim.id!}\\b`);
    const lockErrors = ns.lines
      .filter((l) => aboutVictim.test(JSON.stringify(l)))
      .map((l) => String((l.err as { message?: string } | undefined)?.message ?? l.msg));
    note(`late answer: answers-queue "duplicated" events for ${answerJobId}: ${duplicated.length}; producer "answer dropped" lines: ${JSON.stringify(dropped.map((d) => d.reason))}`);
    note(`partitioned consumer's BullMQ errors about ${victim.id}: ${JSON.stringify([...new Set(lockErrors)])}`);
    // The late answer was refused either by BullMQ (the answer job id a-m-<bridge>-<id> already exists: the
    // add is a no-op) or by the producer (the ledger row is answered: dropped as a duplicate).
    expect(duplicated.length + dropped.filter((d) => String(d.reason).startsWith('duplicate')).length, 'the late answer was refused').toBeGreaterThan(0);
    expect((await q.getJob(victim.id!))?.processedBy, 'the late completion did not take the job over').toBe(HOST_NAME);

    // The partitioned consumer is back in service: it answers questions of the stream again.
    await waitFor(
      'the partitioned consumer answering again after the partition',
      () => ns.lines.some((l) => l.msg === 'question answered' && l.messageId !== victimMessageId),
      60_000,
      200,
    );
    note('the partitioned consumer answers again');

    clearInterval(stream);
    stream = undefined;
    await pipeline.expectAllAnsweredOnce(60_000);
    const status = await pipeline.status();
    expect(status.ledger).toMatchObject({ queued: 0, failed: 0, rejected: 0, answered: pipeline.queryIds.length });
    expect(status.queues.questions).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    expect(status.queues.answers).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    note(`${pipeline.queryIds.length} questions answered exactly once; ledger and queues agree`);

    // A clean stop of everything, the partitioned consumer included.
    const stops = await Promise.all([ns, hostConsumer, producer].map((proc: AutopollProcess) => proc.kill('SIGTERM')));
    expect(stops, 'namespaced consumer, host consumer, producer stopped by SIGTERM').toEqual(Array(3).fill({ code: 0, signal: null }));
  });

  it('leaves no process, namespace or veth behind', async () => {
    const net = link;
    await teardown();
    expect(marker.alive()).toEqual([]);
    expect(net?.leftovers() ?? []).toEqual([]);
  });
});
