import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { runAutopoll, type AutopollProcess } from '../support/cli.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { alive, claudeChildren } from '../support/claudeProcesses.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';

const IDLE_TIMEOUT_SEC = 2;

/** The built consumer's elastic pool, with the real Claude Code binary on the fake API, seen from outside. */
describe('an elastic pool of Claude Code sessions', () => {
  let api: FakeAnthropic;
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
  });
  afterAll(() => api.stop());

  async function started(flags: string[]): Promise<{ pipeline: SpawnedPipeline; consumer: AutopollProcess }> {
    api.responder = echoResponder;
    const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    onTestFinished(() => pipeline.stop());
    const producer = pipeline.producer();
    const consumer = pipeline.consumer(['--answerer', 'claude', '--attempts', '2', '--backoff-ms', '200', '--port', '0', ...flags], claudeEnv(api.url));
    await Promise.all([producer.waitForLog(/^producer started$/), consumer.waitForLog(/^consumer started$/, 60_000)]);
    return { pipeline, consumer };
  }

  /** The most Claude Code processes the consumer had at once while `until` was not yet true. */
  async function peakSessions(consumer: AutopollProcess, until: () => boolean, timeoutMs: number): Promise<number> {
    let peak = 0;
    await waitFor('the questions answered', () => {
      peak = Math.max(peak, claudeChildren(consumer.pid).length);
      return until();
    }, timeoutMs, 20);
    return peak;
  }

  async function sessionGauge(consumer: AutopollProcess): Promise<Record<string, number>> {
    const text = await (await fetch(`${await consumer.operatorUrl()}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^autopoll_claude_sessions\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  }

  it('starts with --min-sessions, grows ahead of need up to --sessions for a burst, shrinks back after --session-idle-timeout, and answers exactly once after shrinking; status and metrics show live versus max', async () => {
    const { pipeline, consumer } = await started(['--sessions', '4', '--min-sessions', '1', '--session-idle-timeout', String(IDLE_TIMEOUT_SEC)]);
    expect(claudeChildren(consumer.pid)).toHaveLength(1);
    await waitFor('presence with live sessions', async () => (await pipeline.status()).consumers[0]?.liveSessions === 1);
    expect((await pipeline.status()).consumers[0]).toMatchObject({ sessions: 4, maxSessions: 4, liveSessions: 1 });
    expect(await sessionGauge(consumer)).toEqual({ live: 1, busy: 0, max: 4 });

    // One question on the one warm session: no spare for a lone question (a trickle: next test).
    pipeline.ask(1, 'q_one');
    const afterOne = await peakSessions(consumer, () => pipeline.bridge.responses(pipeline.conv.id).length === 1, 30_000);
    expect(afterOne).toBe(1);

    // A burst while every turn takes a while: one session per question, up to --sessions, no more.
    api.latencyMs = 1500;
    onTestFinished(() => {
      api.latencyMs = 0;
    });
    pipeline.ask(8, 'q_burst');
    const peak = await peakSessions(consumer, () => pipeline.bridge.responses(pipeline.conv.id).length >= 9, 90_000);
    expect(peak).toBe(4);
    await pipeline.expectAllAnsweredOnce();
    api.latencyMs = 0;

    // Idle: back to the minimum, not below, each session closed no sooner than the idle timeout after
    // its last answer. Both times are the consumer's own log times: the test sees the answers later
    // than the consumer wrote them, by as much as a slow machine adds.
    await waitFor('the pool shrunk to --min-sessions', () => claudeChildren(consumer.pid).length === 1, IDLE_TIMEOUT_SEC * 1000 + 15_000, 50);
    const closes = consumer.lines.filter((l) => l.msg === 'closing an idle Claude Code session');
    expect(closes.length).toBeGreaterThanOrEqual(3);
    for (const close of closes) {
      const lastAnswer = Math.max(...consumer.lines.filter((l) => l.msg === 'question answered' && l.sessionId === close.sessionId).map((l) => Number(l.time)));
      // The answer is logged after its write, which follows the session's release (when the idle timer starts).
      expect(Number(close.time) - lastAnswer).toBeGreaterThanOrEqual(IDLE_TIMEOUT_SEC * 1000 - 500);
    }
    await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_SEC * 1000 + 500));
    expect(claudeChildren(consumer.pid)).toHaveLength(1);
    await waitFor('presence shows the shrink', async () => (await pipeline.status()).consumers[0]?.liveSessions === 1);
    expect(await sessionGauge(consumer)).toEqual({ live: 1, busy: 0, max: 4 });
    const table = await runAutopoll(['status', '--redis', inject('redisUrl'), '--prefix', pipeline.prefix, '--bridge-db', pipeline.bridge.path]);
    expect(table.stdout).toMatch(/running\s+1\/4\s+0\s/);

    // After shrinking: answered, once each.
    pipeline.ask(6, 'q_after');
    await pipeline.expectAllAnsweredOnce(60_000);
    expect(consumer.hasLog(/unexpectedly/)).toBe(false);
  }, 240_000);

  it('a trickle (one question at a time, gaps below and above --session-idle-timeout) stays on the warm session: nothing starts or closes', async () => {
    const { pipeline, consumer } = await started(['--sessions', '3', '--min-sessions', '1', '--session-idle-timeout', '1']);
    const warm = claudeChildren(consumer.pid);
    expect(warm).toHaveLength(1);
    for (const [i, gapMs] of [500, 1500, 800, 2500].entries()) {
      pipeline.ask(1, `q_trickle_${i}`);
      const peak = await peakSessions(consumer, () => pipeline.bridge.responses(pipeline.conv.id).length === i + 1, 30_000);
      expect(peak).toBe(1);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    expect(claudeChildren(consumer.pid)).toEqual(warm);
    expect(consumer.lines.filter((l) => l.msg === 'Claude Code session ready')).toHaveLength(1);
    expect(consumer.hasLog(/closing an idle Claude Code session/)).toBe(false);
    await pipeline.expectAllAnsweredOnce();
  }, 120_000);

  it('SIGTERM while a session started ahead of need is still starting: the consumer kills it and exits 0 within its shutdown timeout', async () => {
    const shutdownTimeoutSec = 2;
    const { pipeline, consumer } = await started(['--sessions', '3', '--min-sessions', '1', '--shutdown-timeout', String(shutdownTimeoutSec)]);
    const seen = new Set(claudeChildren(consumer.pid));
    expect(seen.size).toBe(1);
    // Two questions at once, each turn taking a while: sessions start for the second and ahead of the next.
    api.latencyMs = 1000;
    onTestFinished(() => {
      api.latencyMs = 0;
    });
    pipeline.ask(2, 'q_grow');
    // The sessions started for them cannot finish starting: stopped as soon as they appear.
    const stopped: number[] = [];
    await waitFor('a growth start, stopped', () => {
      for (const pid of claudeChildren(consumer.pid).filter((p) => !seen.has(p))) {
        process.kill(pid, 'SIGSTOP');
        seen.add(pid);
        stopped.push(pid);
      }
      return stopped.length >= 1;
    }, 30_000, 5);
    await waitFor('the questions answered on the warm session', () => pipeline.bridge.responses(pipeline.conv.id).length === 2, 30_000);
    const sigterm = Date.now();
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - sigterm).toBeLessThan(shutdownTimeoutSec * 1000 + 5000);
    expect([...seen].filter(alive)).toEqual([]);
  }, 120_000);

  it('--min-sessions above --sessions is a configuration error', async () => {
    const run = await runAutopoll(['consumer', '--redis', inject('redisUrl'), '--answerer', 'claude', '--sessions', '2', '--min-sessions', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--min-sessions (env AUTOPOLL_MIN_SESSIONS): 3 is more than --sessions (env AUTOPOLL_SESSIONS) 2');
  });
});
