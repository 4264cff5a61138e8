import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ClaudeSession } from '../../src/consumer/claude/ClaudeSession.js';
import { ClaudeSessionPool } from '../../src/consumer/claude/ClaudeSessionPool.js';
import { tempDir } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { alive, claudeChildren } from '../support/claudeProcesses.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { MARKERS } from '../support/leftovers.js';
import { testLogger } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const ctx = { log: () => undefined, progress: () => undefined };

/** The elastic pool in this process, with the real Claude Code binary on the fake API: which session a waiting question gets, and when slots start. */
describe('sizing of the elastic Claude session pool', () => {
  let api: FakeAnthropic;
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
    api.responder = echoResponder;
  });
  afterAll(() => api.stop());

  async function pool(size: number, idleTimeoutMs?: number): Promise<ClaudeSessionPool> {
    const cwd = tempDir();
    const p = new ClaudeSessionPool(
      () => new ClaudeSession({ model: 'haiku', cwd, tools: false, env: claudeEnv(api.url), passEnv: MARKERS, interruptGraceMs: 1000 }, testLogger()),
      { size, minSessions: 1, ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}), turnTimeoutMs: 30_000, maxTurnsPerSession: 1000, maxContextTokens: 1_000_000, memory: 'none', startTimeoutMs: 30_000 },
      testLogger(),
    );
    await p.start();
    onTestFinished(() => p.close());
    return p;
  }

  it('a waiting question takes the session that frees first, not the start it caused', async () => {
    const p = await pool(2);
    const first = new Set(claudeChildren(process.pid));
    api.latencyMs = 300;
    onTestFinished(() => {
      api.latencyMs = 0;
    });
    const one = p.run('conv_a', 'one', ctx);
    const asked = Date.now();
    const two = p.run('conv_b', 'two', ctx);
    // The slot opened for the second question cannot finish starting: stopped as soon as it appears.
    let stopped: number | undefined;
    await waitFor('the second session, stopped', () => {
      stopped = claudeChildren(process.pid).find((pid) => !first.has(pid));
      if (stopped !== undefined) process.kill(stopped, 'SIGSTOP');
      return stopped !== undefined;
    }, 30_000, 5);
    onTestFinished(() => {
      if (alive(stopped!)) process.kill(stopped!, 'SIGCONT');
    });
    expect((await one).slot).toBe(0);
    expect((await two).slot).toBe(0);
    expect(Date.now() - asked).toBeLessThan(5000);
  });

  it('a slot closed while idle reopens without the backoff of its earlier failed starts', async () => {
    const idleMs = 10_000; // longer than the restarts below: slot 0 stays open meanwhile
    const p = await pool(2, idleMs);
    const started: number[] = [];
    p.on('sessionStarted', (e) => e.slot === 1 && started.push(Date.now()));
    // Two questions at once: slot 1 opens.
    api.latencyMs = 300;
    onTestFinished(() => {
      api.latencyMs = 0;
    });
    await Promise.all([p.run('conv_a', 'one', ctx), p.run('conv_b', 'two', ctx)]);
    await waitFor('slot 1 started', () => started.length === 1, 30_000);
    // Its process dies three times: each restart waits a longer backoff (0.5, 1, 2 s), the next would wait 4 s.
    for (let i = 1; i <= 3; i++) {
      process.kill(p.pids()[1]!, 'SIGKILL');
      await waitFor(`slot 1 restarted (${i})`, () => started.length === i + 1, 30_000);
    }
    // A turn on slot 0 now: its idle timeout ends after slot 1's, so slot 1 is the one that closes.
    expect((await p.run('conv_c', 'three', ctx)).slot).toBe(0);
    const slot0 = p.pids()[0];
    await waitFor('slot 1 closed while idle', () => p.counts().live === 1, 3 * idleMs + 5000, 50);
    expect(p.pids()).toEqual([slot0]);
    // Two questions at once again: slot 1 reopens at once.
    const reopened = Date.now();
    const both = Promise.all([p.run('conv_a', 'four', ctx), p.run('conv_b', 'five', ctx)]);
    await waitFor('slot 1 spawned again', () => p.pids().length === 2, 30_000, 20);
    expect(Date.now() - reopened, 'no backoff (the next would be 4 s)').toBeLessThan(3000);
    await both;
  }, 90_000);
});
