import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { QUESTIONS_QUEUE } from '../../src/shared/queues.js';
import type { AutopollProcess } from '../support/cli.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { alive, claudeChildren } from '../support/claudeProcesses.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * Questions whose Claude Code session does not start, seen from outside: the built consumer, the
 * real binary on the fake API, its processes killed or stopped from here as they appear.
 */
describe('a question whose session does not start', () => {
  let api: FakeAnthropic;
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
    api.responder = echoResponder;
  });
  afterAll(() => api.stop());

  /** A producer and a one-session consumer, started; the question queue read from here. */
  async function started(flags: string[]): Promise<{ pipeline: SpawnedPipeline; consumer: AutopollProcess; questions: Queue }> {
    const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    onTestFinished(() => pipeline.stop());
    const producer = pipeline.producer();
    const consumer = pipeline.consumer(['--answerer', 'claude', '--sessions', '1', '--min-sessions', '1', '--backoff-ms', '200', ...flags], claudeEnv(api.url));
    await Promise.all([producer.waitForLog(/^producer started$/), consumer.waitForLog(/^consumer started$/, 60_000)]);
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const questions = new Queue(QUESTIONS_QUEUE, { connection, prefix: pipeline.prefix });
    onTestFinished(async () => {
      await questions.close();
      connection.disconnect();
    });
    return { pipeline, consumer, questions };
  }

  /** The consumer's warm session killed, and its replacement stopped as it appears: a start that does not finish. */
  async function stoppedReplacement(consumer: AutopollProcess): Promise<{ warm: number; stopped: number }> {
    const [warm] = claudeChildren(consumer.pid);
    process.kill(warm!, 'SIGKILL');
    const stopped = await waitFor('the replacement, stopped', () => {
      const replacement = claudeChildren(consumer.pid).find((p) => p !== warm);
      if (replacement !== undefined) process.kill(replacement, 'SIGSTOP');
      return replacement;
    }, 20_000, 5);
    return { warm: warm!, stopped };
  }

  /**
   * The consumer's one question on its way: a start that does not finish (stoppedReplacement), then
   * the question asked and taken, waiting for that start. Returns the stopped process.
   */
  async function waitingForAStart(pipeline: SpawnedPipeline, consumer: AutopollProcess, questions: Queue): Promise<number> {
    const { stopped } = await stoppedReplacement(consumer);
    onTestFinished(() => {
      if (alive(stopped)) process.kill(stopped, 'SIGKILL');
    });
    pipeline.ask(1, 'q_waits');
    await waitFor('the question taken', async () => (await (await job(questions, pipeline))?.getState()) === 'active', 20_000, 50);
    // A moment for the run to reach the wait for the start.
    await new Promise((r) => setTimeout(r, 500));
    return stopped;
  }

  const job = (questions: Queue, pipeline: SpawnedPipeline): Promise<Job | undefined> => questions.getJob(pipeline.bridge.jobId(pipeline.messageIds[0]!));

  it('is handed back unspent when its session fails to start, and answered on the next start, with --attempts 1', async () => {
    const { pipeline, consumer, questions } = await started(['--attempts', '1']);
    const stopped = await waitingForAStart(pipeline, consumer, questions);
    process.kill(stopped, 'SIGKILL');
    await waitFor('the answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 1, 60_000);
    const [response] = pipeline.bridge.responses(pipeline.conv.id);
    expect(response!.body.error).toBeUndefined();
    expect(response!.body.attempts).toBe(1);
    expect((await job(questions, pipeline))!.data).toMatchObject({ startFailures: 1, deferrals: 1 });
    expect(consumer.hasLog(/its session did not start; handed back/)).toBe(true);
  }, 120_000);

  it('a start that fails while no question waits: the slot starts again after its backoff, not left dead for the next question to find', async () => {
    const { pipeline, consumer, questions } = await started(['--attempts', '1']);
    const { warm, stopped: failed } = await stoppedReplacement(consumer);
    process.kill(failed, 'SIGKILL');
    const next = await waitFor('a new start, no question asked', () => claudeChildren(consumer.pid).find((p) => p !== warm && p !== failed), 15_000, 50);
    await waitFor('it is warm', () => consumer.lines.filter((l) => l.msg === 'Claude Code session ready').length >= 2, 30_000, 50);
    pipeline.ask(1, 'q_after');
    await waitFor('the answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 1, 60_000);
    expect(pipeline.bridge.responses(pipeline.conv.id)[0]!.body.error).toBeUndefined();
    // Answered by the new start, without taking the old failure (no start failure counted).
    expect((await job(questions, pipeline))!.data.startFailures ?? 0).toBe(0);
    expect(claudeChildren(consumer.pid)).toEqual([next]);
  }, 120_000);

  it('SIGTERM while the question waits for its session to start: handed back unspent at once, exit 0 well before --shutdown-timeout', async () => {
    const shutdownTimeoutSec = 30;
    const { pipeline, consumer, questions } = await started(['--attempts', '1', '--shutdown-timeout', String(shutdownTimeoutSec)]);
    const stopped = await waitingForAStart(pipeline, consumer, questions);
    const sigterm = Date.now();
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sigterm).toBeLessThan(10_000);
    const handedBack = (await job(questions, pipeline))!;
    expect(['waiting', 'delayed', 'prioritized']).toContain(await handedBack.getState());
    // Started once, handed back once: no attempt spent.
    expect(handedBack.attemptsStarted - (handedBack.data.deferrals ?? 0)).toBe(0);
    expect(alive(stopped)).toBe(false);
    // Another consumer answers it, as its first attempt.
    pipeline.consumer(['--answerer', 'stub']);
    await waitFor('the answer', () => pipeline.bridge.responses(pipeline.conv.id).length === 1, 30_000);
    expect(pipeline.bridge.responses(pipeline.conv.id)[0]!.body).toMatchObject({ attempts: 1 });
  }, 120_000);
});
