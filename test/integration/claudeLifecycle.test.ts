import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { ClaudeSession } from '../../src/consumer/claude/ClaudeSession.js';
import { ClaudeSessionPool } from '../../src/consumer/claude/ClaudeSessionPool.js';
import type { QuestionJob } from '../../src/shared/jobs.js';
import { tempDir } from '../support/bridge.js';
import { claudeEnv, testClaudeAnswerer } from '../support/claudeEnv.js';
import { alive, claudeChildren } from '../support/claudeProcesses.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { testLogger } from '../support/pipeline.js';
import { RedisServer } from '../support/redisServer.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { waitFor } from '../support/wait.js';
import { MARKERS } from '../support/leftovers.js';

const answerer = testClaudeAnswerer;

const job = (i: number): QuestionJob => ({ messageId: i + 1, conversationId: 'conv_lifecycle', queryId: `q_${i}`, question: `question ${i}` });
const ctx = { attempt: 1, replay: false, signal: new AbortController().signal, log: () => undefined, progress: () => undefined };

/** Every process below this one (Claude Code may start children of its own). */
function descendants(): number[] {
  // ps itself is a child while it runs: left out by name.
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='])
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] !== 'ps')
    .map((f) => [Number(f[0]), Number(f[1])] as [number, number]);
  const out: number[] = [];
  const walk = (parent: number) => {
    for (const [pid, ppid] of rows) if (ppid === parent) { out.push(pid); walk(pid); }
  };
  walk(process.pid);
  return out.filter((pid) => pid !== undefined);
}

/** The session folders a consumer made in the temp folder of `env`. */
function sessionFolders(env: NodeJS.ProcessEnv): string[] {
  return readdirSync(env.TMPDIR!).filter((f) => f.startsWith('autopoll-session-'));
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('Claude Code session lifecycle', () => {
  let api: FakeAnthropic;
  beforeAll(async () => {
    api = await new FakeAnthropic().start();
  });
  afterAll(async () => {
    await api.stop();
  });

  it('recycles a session after --max-turns-per-session turns', async () => {
    api.responder = echoResponder;
    const a = answerer(api, { sessions: 1, maxTurnsPerSession: 3 });
    const replaced: string[] = [];
    a.pool.on('sessionReplaced', (e) => replaced.push(e.reason));
    await a.start();
    try {
      const ids: string[] = [];
      const pids = new Set<number>();
      for (let i = 0; i < 7; i++) {
        pids.add(a.pool.pids()[0]!);
        ids.push((await a.answer(job(i), ctx)).sessionId!);
      }
      expect(new Set(ids).size).toBe(3); // turns 1-3, 4-6, 7
      expect(pids.size).toBe(3);
      expect(replaced.filter((r) => r === 'recycle')).toHaveLength(2);
    } finally {
      await a.close();
    }
  });

  it('recycles a session whose context grew past --max-context-tokens (session memory on)', async () => {
    api.responder = echoResponder;
    const a = answerer(api, { sessions: 1, sessionMemory: 'conversation', maxContextTokens: 1000 });
    await a.start();
    try {
      const ids: string[] = [];
      // The fake counts ~4 characters a token: each kept turn adds ~250 tokens of context.
      for (let i = 0; i < 8; i++) ids.push((await a.answer({ ...job(i), question: `${'context '.repeat(120)} ${i}` }, ctx)).sessionId!);
      expect(new Set(ids).size).toBeGreaterThan(1);
    } finally {
      await a.close();
    }
  });

  // 500 real Claude Code turns cost 60-140 ms of CPU each: 31 s alone here, past the suite's 60 s
  // when the other test worker shares the 2 cores (CI timed out at 60 s). A hung turn still fails
  // on its own 30 s turn timeout; this bound only has to exceed the work.
  it('has as many child processes and open descriptors after 500 turns as after 50', async () => {
    api.responder = echoResponder;
    const a = answerer(api, { sessions: 2, maxTurnsPerSession: 50 });
    await a.start();
    const runTurns = async (from: number, to: number) => {
      let next = from;
      await Promise.all([0, 1].map(async () => {
        while (next < to) await a.answer(job(next++), ctx);
      }));
    };
    // Settled: the same counts three samples running, half a second apart (a recycled session's
    // replacement may still be starting, or a background /clear finishing, on a loaded machine).
    const settle = async () => {
      const samples: string[] = [];
      // The fake API lives in this process: the keep-alive connections Claude Code opens to it are
      // this process's descriptors too, and their number follows Claude Code's HTTP client, not the pool.
      const sample = () => ({ children: descendants().length, fds: openDescriptors() - api.openConnections });
      return waitFor('counts that hold still', async () => {
        await new Promise((r) => setTimeout(r, 500));
        const now = sample();
        samples.push(JSON.stringify(now));
        return samples.length >= 3 && samples.slice(-3).every((x) => x === samples.at(-1)) ? now : undefined;
      }, 20_000, 0);
    };
    try {
      await runTurns(0, 50);
      const at50 = await settle();
      await runTurns(50, 500);
      const at500 = await settle();
      expect(at50.children).toBeGreaterThanOrEqual(2);
      expect(at500.children).toBe(at50.children);
      // Within 2: the test process's own descriptors (its workers' pipes, its Redis and HTTP sockets)
      // move by one now and then, down as often as up. A leak is far more: one descriptor a turn is
      // 450, one a recycled session (every 50 turns of each of the 2 sessions) is 9.
      expect(at500.fds).toBeLessThanOrEqual(at50.fds + 2);
    } finally {
      await a.close();
    }
    await waitFor('no process left', () => descendants().length === 0, 10_000);
  }, 300_000);

  it('SIGTERM to a consumer process: in-flight turns finish, every Claude Code process is closed, its session folder removed, exit 0', async () => {
    api.responder = echoResponder;
    api.latencyMs = 1500;
    onTestFinished(() => {
      api.latencyMs = 0;
    });
    // Each stop registered as soon as there is something to stop: a failed step below still runs them (the last first).
    const redis = await RedisServer.start();
    onTestFinished(() => redis.stop());
    const pipeline = new SpawnedPipeline(['--redis', redis.url]);
    onTestFinished(() => pipeline.stop());
    const { bridge, conv } = pipeline;
    const env = claudeEnv(api.url);
    const producer = pipeline.producer();
    const consumer = pipeline.consumer(['--answerer', 'claude', '--sessions', '2', '--min-sessions', '2'], env);
    await producer.waitForLog(/^producer started$/);
    await consumer.waitForLog(/^consumer started$/, 60_000);
    const sessionPids = consumer.lines.filter((l) => l.msg === 'Claude Code session ready').map((l) => Number(l.sessionPid));
    expect(sessionPids).toHaveLength(2);
    expect(sessionFolders(env)).toHaveLength(1);
    bridge.ask(conv.id, 'q_t1', 'one');
    bridge.ask(conv.id, 'q_t2', 'two');
    await waitFor('both at the API', () => api.messageRequests.filter((r) => /q_t[12]/.test(r.lastUser)).length >= 2, 20_000);
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    await waitFor('answers written', () => bridge.responses(conv.id).length === 2, 20_000);
    for (const r of bridge.responses(conv.id)) expect(r.body.error).toBeUndefined();
    for (const pid of sessionPids) expect(() => process.kill(pid, 0)).toThrow(); // gone, not a zombie we hold
    expect(sessionFolders(env)).toEqual([]);
  });

  it.each(['at start', 'replacing a killed session'] as const)('SIGTERM while a session is still starting (%s): the consumer kills it and exits 0 within its shutdown timeout', async (when) => {
    const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
    onTestFinished(() => pipeline.stop());
    const shutdownTimeoutSec = 2;
    const consumer = pipeline.consumer(['--answerer', 'claude', '--sessions', '2', '--min-sessions', '2', '--shutdown-timeout', String(shutdownTimeoutSec)], claudeEnv(api.url));
    const seen = new Set<number>();
    if (when === 'replacing a killed session') {
      await consumer.waitForLog(/^consumer started$/, 60_000);
      for (const pid of claudeChildren(consumer.child.pid!)) seen.add(pid);
      process.kill([...seen][0]!, 'SIGKILL');
    }
    // Sessions that cannot finish starting: each new Claude Code process is stopped as soon as it appears.
    const stopped: number[] = [];
    await waitFor('a starting Claude Code process, stopped', () => {
      for (const pid of claudeChildren(consumer.child.pid!).filter((p) => !seen.has(p))) {
        process.kill(pid, 'SIGSTOP');
        seen.add(pid);
        stopped.push(pid);
      }
      return stopped.length >= (when === 'at start' ? 2 : 1);
    }, 30_000, 5);
    const started = Date.now();
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toEqual({ code: 0, signal: null });
    // Within the deadline: not at the hard stop (shutdown timeout + 10 s, exit 1), nor after the 60 s start timeout.
    expect(Date.now() - started).toBeLessThan(shutdownTimeoutSec * 1000 + 5000);
    expect([...seen].filter(alive)).toEqual([]);
  });

  it('a replacement that fails to start while its slot is idle does not end the process: the next question on the slot gets that failure, the one after is answered', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    onTestFinished(() => {
      process.off('unhandledRejection', record);
    });
    // The first session is real; its replacement's binary is missing, so it fails to start.
    let binary: string | undefined;
    const cwd = tempDir();
    const pool = new ClaudeSessionPool(
      () => new ClaudeSession({ model: 'haiku', cwd, tools: false, env: claudeEnv(api.url), passEnv: MARKERS, interruptGraceMs: 1000, executable: binary }, testLogger()),
      { size: 1, turnTimeoutMs: 30_000, maxTurnsPerSession: 1000, maxContextTokens: 1_000_000, memory: 'none', startTimeoutMs: 30_000 },
      testLogger(),
    );
    await pool.start();
    onTestFinished(() => pool.close());
    api.responder = () => ({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'refused' });
    binary = join(tempDir(), 'no-claude-here');
    await expect(pool.run('conv_a', 'fails, and its session is replaced', ctx)).rejects.toThrow();
    const failedStart = pool.run('conv_a', 'meets the failed replacement', ctx);
    await expect(failedStart).rejects.toThrow(/Claude Code process exited/);
    // Past the failed start, in the background: nothing unhandled.
    await new Promise((r) => setTimeout(r, 500));
    expect(unhandled).toEqual([]);
    binary = undefined;
    api.responder = echoResponder;
    await waitFor('a working replacement answers', async () => (await pool.run('conv_a', 'answered', ctx).then((t) => t.text, () => '')).includes('answered'), 30_000, 200);
  });

  it('a question goes to a session already cleared, not to the one still clearing after its answer', async () => {
    api.responder = echoResponder;
    const cwd = tempDir();
    const pool = new ClaudeSessionPool(
      () => new ClaudeSession({ model: 'haiku', cwd, tools: false, env: claudeEnv(api.url), passEnv: MARKERS, interruptGraceMs: 1000 }, testLogger()),
      { size: 2, turnTimeoutMs: 30_000, maxTurnsPerSession: 1000, maxContextTokens: 1_000_000, memory: 'none', startTimeoutMs: 30_000 },
      testLogger(),
    );
    await pool.start();
    onTestFinished(() => pool.close());
    const slots: number[] = [];
    // Two questions at a time, the second asked the moment the first is answered: the first's slot
    // has only begun its /clear (it needs a round trip to Claude Code). Between the pairs, both
    // /clears (tens of ms) end, so the first of a pair takes slot 0 again.
    for (const pair of [0, 1]) {
      if (pair) await new Promise((r) => setTimeout(r, 2000));
      for (const i of [0, 1]) slots.push((await pool.run(`conv_${pair}_${i}`, `question ${pair}.${i}`, ctx)).slot);
    }
    expect(slots).toEqual([0, 1, 0, 1]);
  });

  it('an answerer whose Claude Code cannot start removes its session folder', async () => {
    // The answerer makes its folder in this process's temp folder: for this test, one of its own.
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = tempDir();
    onTestFinished(() => {
      process.env.TMPDIR = tmp;
    });
    const a = answerer(api, { executable: join(tempDir(), 'no-claude-here') });
    await expect(a.start()).rejects.toThrow(/Claude Code process exited/);
    expect(sessionFolders(process.env)).toEqual([]);
  });
});
