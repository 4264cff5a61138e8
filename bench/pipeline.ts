/**
 * The pipeline benchmark: real producer and consumer processes of the built CLI, a private
 * redis-server, a bridge file written the way the Python bridge writes it, and the stub answerer.
 *
 * Per scenario (an empty bridge, then one with a million old messages):
 *   - pickup latency: questions sent one at a time with a small gap; bridge commit -> job active
 *     (BullMQ's processedOn), plus the steps around it;
 *   - throughput: N questions inserted as fast as the bench can, first insert -> N-th answer row.
 */
import { runScenario } from './pipeline/scenario.js';
import { type BridgeCheck } from '../test/support/exactlyOnce.js';
import { round } from '../test/support/numbers.js';
import { type CpuUse } from './cpuMeter.js';
import { type Distribution } from './numbers.js';

export const TARGETS = {
  throughputQps: 2000,
  pickupP50Ms: 20,
  /** With old messages, at most this factor worse than on an empty bridge. */
  oldMessagesFactor: 2,
};

export interface PipelineConfig {
  /** Questions in a throughput run. */
  throughputN: number;
  /** Throughput runs per scenario; the median one is reported. */
  throughputRepeat: number;
  /** Questions per bench transaction while inserting the throughput run. */
  insertBatch: number;
  /** Questions in the latency run, sent one at a time. */
  latencyN: number;
  latencyGapMs: number;
  /** Questions answered before measuring, so both processes run warm code. */
  warmupN: number;
  /** Old messages in the second scenario. */
  oldMessages: number;
  /** Consumer --sessions. */
  sessions: number;
  throughputTimeoutMs: number;
  /** When set, children run with --cpu-prof into this folder. */
  cpuProfDir?: string | undefined;
}

export interface LatencyResult {
  n: number;
  gapMs: number;
  /**
   * Bridge commit -> job active (processedOn): the pickup latency. The commit time is read right
   * after the bench's insert returns; when the OS runs the producer first and the bench a few ms
   * later (2 busy cores), a sample comes out too small, even negative (see negativeSamples).
   */
  pickupMs: Distribution | null;
  /** Every pickup sample (ms, 0.01 ms resolution), in the order the questions were sent: the report's distribution chart. */
  pickupSamplesMs: number[];
  negativeSamples: number;
  /** How long the bench's insert took (BEGIN IMMEDIATE .. COMMIT with the bridge's fsync). */
  insertCallMs: Distribution | null;
  /** Bridge commit -> job added to Redis (job.timestamp, the producer's clock). */
  insertToEnqueuedMs: Distribution | null;
  /** Job added -> job active. */
  enqueuedToActiveMs: Distribution | null;
  /** Bridge commit -> answer row committed (its timestamp). */
  insertToAnswerMs: Distribution | null;
  missingJobs: number;
}

export interface ThroughputResult {
  run: number;
  n: number;
  insertBatch: number;
  answered: number;
  timedOut: boolean;
  /** First insert -> last insert committed (the bench's own pace). */
  insertSec: number;
  /** First insert -> last question taken into the ledger. */
  lastTakenSec: number | null;
  /** First insert -> last answer row. */
  totalSec: number;
  questionsPerSec: number;
  /** CPU over the run, per process and for the whole machine; percent of one core (see machine.cpus). */
  cpu: CpuUse;
  /** Largest backlog seen in each queue (waiting + delayed), sampled every 250 ms. */
  peakBacklog: { questions: number; answers: number };
  /** The samples: seconds since the first insert, jobs waiting and active per queue, answers in the bridge. */
  timeline: Array<{ t: number; qWait: number; qActive: number; aWait: number; aActive: number; answered: number }>;
}

export interface ScenarioResult {
  scenario: string;
  oldMessages: number;
  seed: { seconds: number; fileMB: number } | null;
  /** Producer spawn -> its first heartbeat row (startup includes creating autopoll's index on `messages`). */
  producerReadySec: number;
  latency: LatencyResult;
  /** The median run by q/s (all runs in throughputRuns). */
  throughput: ThroughputResult;
  throughputRuns: ThroughputResult[];
  /** Redis commandstats over the throughput runs (commands run by scripts included), the costliest first. */
  redisCommands: Array<{ command: string; calls: number; perQuestion: number; usecPerCall: number; usecPerQuestion: number }>;
  check: BridgeCheck;
  logLines: { producerWarnings: number; producerErrors: number; consumerWarnings: number; consumerErrors: number; first: string[] };
}

export interface PipelineResult {
  benchmark: 'pipeline';
  targets: typeof TARGETS;
  config: PipelineConfig;
  scenarios: ScenarioResult[];
  /** Old-messages scenario relative to the empty one; > 1 means worse. */
  oldVsEmpty: { throughputSlowdown: number; pickupP50Factor: number | null; pickupP99Factor: number | null } | null;
}

export async function runPipelineBench(config: PipelineConfig, log: (line: string) => void): Promise<PipelineResult> {
  const scenarios: ScenarioResult[] = [];
  scenarios.push(await runScenario('empty', 0, config, log));
  if (config.oldMessages > 0) scenarios.push(await runScenario('old', config.oldMessages, config, log));
  const [empty, old] = scenarios;
  const factor = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b, 2) : null);
  return {
    benchmark: 'pipeline',
    targets: TARGETS,
    config,
    scenarios,
    oldVsEmpty: old && empty
      ? {
          throughputSlowdown: factor(empty.throughput.questionsPerSec, old.throughput.questionsPerSec) ?? 0,
          pickupP50Factor: factor(old.latency.pickupMs?.p50, empty.latency.pickupMs?.p50),
          pickupP99Factor: factor(old.latency.pickupMs?.p99, empty.latency.pickupMs?.p99),
        }
      : null,
  };
}
