/**
 * The idle benchmark: what a consumer with many sessions costs while nobody asks. A producer and
 * `consumer --sessions N` (the real Claude Code binary on the fake API) answer a first burst, so
 * that the pool grows (up to N); then nobody asks for `idleSec` (90 s by default: longer than the
 * default --session-idle-timeout, so the pool has shrunk to --min-sessions); the CPU of the
 * consumer and every process below it is read from /proc over a window; then a second burst must
 * be answered, each question exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkBridge, type BridgeCheck } from '../test/support/exactlyOnce.js';
import { round } from '../test/support/numbers.js';
import { waitFor } from '../test/support/wait.js';
import { setUpRun } from './claude/setup.js';
import { cpuMsPerSec, sampleTree, type TreeSample } from './idle/treeCpu.js';
import { BenchStack } from './stack.js';

export const IDLE_TARGETS = {
  /** CPU of the idle consumer and everything it started, ms a second. */
  idleCpuMsPerSec: 30,
};

export interface IdleConfig {
  /** --sessions of the consumer. */
  sessions: number;
  /** Questions in each burst. */
  burst: number;
  /** Seconds from the first burst's last answer to the CPU window. */
  idleSec: number;
  /** Seconds the CPU is measured over. */
  windowSec: number;
  /** --session-idle-timeout, when not the consumer's default (a quick run shortens it with idleSec). */
  sessionIdleTimeoutSec: number | undefined;
  /** --min-sessions, when not the consumer's default (--sessions: the fixed pool, as a baseline). */
  minSessions: number | undefined;
}

export interface IdleBurst {
  asked: number;
  /** From asking to the last answer. */
  seconds: number;
  /** The most Claude Code processes seen at once while it was answered. */
  peakSessions: number;
  check: BridgeCheck;
}

export interface IdleResult {
  benchmark: 'idle';
  targets: typeof IDLE_TARGETS;
  config: IdleConfig;
  /** Consumer spawn -> `consumer started`, and the Claude Code processes it had then. */
  startSec: number;
  sessionsAtStart: number;
  first: IdleBurst;
  idle: { windowSec: number; sessions: number; processes: number; rssMb: number; cpuMsPerSec: { total: number; consumer: number; below: number } };
  second: IdleBurst;
}

export async function runIdleBench(config: IdleConfig, log: (line: string) => void, stop: AbortSignal): Promise<IdleResult> {
  const undo: Array<() => Promise<void>> = [];
  const stack = await BenchStack.start('idle');
  try {
    const { env } = await setUpRun(undo);
    const conv = stack.bridge.createConversation();
    await stack.startProducer(conv, { name: 'producer' });
    const spawned = performance.now();
    const consumer = stack.service({
      name: 'consumer',
      args: [
        'consumer', ...stack.commonArgs('info'), '--answerer', 'claude', '--sessions', String(config.sessions),
        ...(config.sessionIdleTimeoutSec !== undefined ? ['--session-idle-timeout', String(config.sessionIdleTimeoutSec)] : []),
        ...(config.minSessions !== undefined ? ['--min-sessions', String(config.minSessions)] : []),
      ],
      env,
    });
    await waitFor('the consumer to start', () => (consumer.logged.get('consumer started') ?? 0) > 0, { timeoutMs: 120_000, everyMs: 20, guard: [consumer] });
    const startSec = round((performance.now() - spawned) / 1000, 2);
    const sessionsAtStart = sampleTree(consumer.pid).claude;
    log(`idle: consumer --sessions ${config.sessions} started in ${startSec} s with ${sessionsAtStart} session(s)`);

    let asked = 0;
    const burst = async (tag: string): Promise<IdleBurst> => {
      const from = asked;
      const t0 = performance.now();
      for (let i = 0; i < config.burst; i++) stack.bridge.ask(conv.id, `${tag}_${asked++}`, `Question ${i} of the ${tag} burst: where is the retry policy defined?`);
      let peakSessions = 0;
      await waitFor(`the ${tag} burst answered`, () => {
        peakSessions = Math.max(peakSessions, sampleTree(consumer.pid).claude);
        return checkBridge(stack.bridge, conv, asked).responseRows >= asked;
      }, { timeoutMs: 300_000, everyMs: 50, guard: [consumer] });
      const out = { asked: asked - from, seconds: round((performance.now() - t0) / 1000, 2), peakSessions, check: checkBridge(stack.bridge, conv, asked) };
      log(`idle: ${tag} burst of ${out.asked} answered in ${out.seconds} s, at most ${peakSessions} sessions`);
      return out;
    };

    const first = await burst('first');
    log(`idle: nobody asks for ${config.idleSec} s`);
    await sleep(config.idleSec * 1000, undefined, { signal: stop });
    const a: TreeSample = sampleTree(consumer.pid);
    const t0 = performance.now();
    await sleep(config.windowSec * 1000, undefined, { signal: stop });
    const b = sampleTree(consumer.pid);
    const windowSec = round((performance.now() - t0) / 1000, 2);
    const idle = { windowSec, sessions: b.claude, processes: b.processes, rssMb: b.rssMb, cpuMsPerSec: cpuMsPerSec(a, b, windowSec) };
    log(`idle: ${idle.cpuMsPerSec.total} ms of CPU a second (consumer ${idle.cpuMsPerSec.consumer}, below it ${idle.cpuMsPerSec.below}) with ${idle.sessions} session(s), ${idle.rssMb} MB`);
    const second = await burst('second');
    return { benchmark: 'idle', targets: IDLE_TARGETS, config, startSec, sessionsAtStart, first, idle, second };
  } finally {
    await stack.close();
    for (const u of undo.reverse()) await u();
  }
}
