/**
 * The scale-out benchmark: one producer, a private redis-server, and 1, 2, 4 ... consumer
 * processes of the built CLI, each with the stub answerer at a fixed latency (500 ms) and the
 * same number of sessions. A phase per consumer count measures steady-state throughput: every
 * consumer is up (it logged `consumer started`) before the first question, the bridge is kept
 * topped up so that the questions queue never runs dry, and only the answers committed inside a
 * window that opens after a warm-up are counted. With a sleeping answerer the ideal is
 * sessions x (1000 / latency) questions a second; scaling efficiency compares N consumers with
 * N times one consumer.
 */
import { runPhase } from './scale/phase.js';
import { type BridgeCheck } from '../test/support/exactlyOnce.js';
import { round } from '../test/support/numbers.js';
import { type CpuUse } from './cpuMeter.js';


export const SCALE_TARGETS = {
  /** Throughput of the largest fleet / (its consumers x one consumer's throughput). */
  efficiency: 0.9,
};

export interface ScaleConfig {
  /** Consumer processes per phase, e.g. [1, 2, 4]. */
  consumers: number[];
  /** --sessions of every consumer. */
  sessionsPerConsumer: number;
  /** --stub-latency-ms. */
  stubLatencyMs: number;
  /** Seconds measured per phase. */
  windowSec: number;
  /** Seconds between the first answer and the window, for every session to be busy. */
  warmupSec: number;
  /** The bench keeps this many seconds of ideal throughput (plus one question per session) unanswered in the bridge. */
  backlogSec: number;
}

export interface ScalePhase {
  consumers: number;
  sessionsTotal: number;
  /** sessions x 1000 / latency. */
  idealQps: number;
  /** Producer spawn -> first heartbeat; consumers spawn -> all logged `consumer started`. */
  producerReadySec: number;
  consumersReadySec: number;
  /** The window actually measured (a little over windowSec: timers). */
  windowSec: number;
  /** Answer rows committed to the bridge inside the window. */
  answeredInWindow: number;
  questionsPerSec: number;
  /** Questions jobs finished inside the window, by the consumer that ran them (BullMQ processedBy), and over the whole phase. */
  perConsumer: Record<string, { window: number; total: number }>;
  /** Questions waiting in Redis (wait + prioritized + delayed) and active, sampled every 250 ms in the window. */
  queue: { samples: number; minWaiting: number; maxWaiting: number; minActive: number; maxActive: number };
  /** CPU over the window; percent of one core. */
  cpu: CpuUse;
  /** Questions asked in the phase; seconds from the end of asking to the last answer. */
  asked: number;
  drainSec: number;
  /** Question jobs: completed, failed, run more than once (attemptsStarted > 1), and those without processedBy. */
  jobs: { completed: number; failed: number; startedMoreThanOnce: number; withoutProcessedBy: number };
  check: BridgeCheck;
  logLines: { warnings: number; errors: number; first: string[] };
}

export interface ScaleResult {
  benchmark: 'scale';
  targets: typeof SCALE_TARGETS;
  config: ScaleConfig;
  phases: ScalePhase[];
  /** Per phase: throughput / (consumers x the smallest phase's throughput per consumer). */
  efficiency: Array<{ consumers: number; efficiency: number }>;
}

export async function runScaleBench(config: ScaleConfig, log: (line: string) => void, stop: AbortSignal): Promise<ScaleResult> {
  const phases: ScalePhase[] = [];
  for (const consumers of config.consumers) {
    if (stop.aborted) break;
    phases.push(await runPhase(consumers, config, log));
  }
  const base = [...phases].sort((a, b) => a.consumers - b.consumers)[0];
  const perConsumer = base ? base.questionsPerSec / base.consumers : 0;
  return {
    benchmark: 'scale',
    targets: SCALE_TARGETS,
    config,
    phases,
    efficiency: phases.map((p) => ({ consumers: p.consumers, efficiency: perConsumer ? round(p.questionsPerSec / (p.consumers * perConsumer), 3) : 0 })),
  };
}
