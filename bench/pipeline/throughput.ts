/**
 * The throughput phase: N questions inserted as fast as the bench can, first insert -> N-th
 * answer row, a few runs of it; the queues sampled meanwhile, CPU per process, Redis commandstats.
 */
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import type { Conversation } from '../../test/support/bridge.js';
import type { PipelineConfig, ScenarioResult, ThroughputResult } from '../pipeline.js';
import { Sampler } from '../sampler.js';
import { round } from '../../test/support/numbers.js';
import { WaitTimeout } from '../../test/support/wait.js';
import { type AnswerCounter, insertMany, nowMs } from '../bridgeTraffic.js';
import { CpuMeter } from '../cpuMeter.js';
import { type BenchStack } from '../stack.js';

/** The runs of one scenario: they stop early when one times out or is slow; the median by q/s is the scenario's figure. */
export async function measureThroughputRuns(
  scenario: string, stack: BenchStack, conv: Conversation, answers: AnswerCounter, config: PipelineConfig, pids: Record<string, number>, log: (line: string) => void,
): Promise<Pick<ScenarioResult, 'throughput' | 'throughputRuns' | 'redisCommands'>> {
  const throughputRuns: ThroughputResult[] = [];
  await stack.client.config('RESETSTAT');
  for (let run = 1; run <= config.throughputRepeat; run++) {
    const r = await measureThroughput(run, stack, conv, answers, config, pids);
    throughputRuns.push(r);
    log(`[${scenario}]   run ${run}: ${r.answered} answered in ${r.totalSec} s: ${r.questionsPerSec} q/s${r.timedOut ? ' (TIMED OUT)' : ''}`);
    // A run that timed out leaves work in flight, and slow runs would blow the time budget.
    if (r.timedOut || r.totalSec > 30) break;
  }
  const redisCommands = topCommands(await stack.client.info('commandstats'), throughputRuns.reduce((s, r) => s + r.answered, 0));
  const byRate = [...throughputRuns].sort((a, b) => a.questionsPerSec - b.questionsPerSec);
  return { throughput: byRate[Math.floor((byRate.length - 1) / 2)]!, throughputRuns, redisCommands };
}

async function measureThroughput(run: number, stack: BenchStack, conv: Conversation, answers: AnswerCounter, config: PipelineConfig, pids: Record<string, number>): Promise<ThroughputResult> {
  const { bridge } = stack;
  const n = config.throughputN;
  const mark = answers.mark();
  const cpu = new CpuMeter(pids);
  const timeline: ThroughputResult['timeline'] = [];
  let t0 = 0;
  // Every 250 ms: jobs waiting and active in each queue, and the answers so far.
  const sampler = new Sampler(250, async () => {
    const t = round((nowMs() - t0) / 1000, 2);
    const [q, a] = await Promise.all([
      stack.questions.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
      stack.answers.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
    ]);
    const waiting = (c: Record<string, number>) => (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
    timeline.push({ t, qWait: waiting(q), qActive: q.active ?? 0, aWait: waiting(a), aActive: a.active ?? 0, answered: answers.count(mark).n });
  });
  sampler.start();
  cpu.start();
  t0 = nowMs();
  await insertMany(bridge, conv, `tp${run}`, n, config.insertBatch);
  const insertedAt = nowMs();
  let timedOut = false;
  let done: { n: number; last: string | null };
  try {
    done = await answers.waitFor(mark, n, config.throughputTimeoutMs);
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    timedOut = true;
    done = answers.count(mark);
  } finally {
    await sampler.stop();
  }
  const usage = cpu.stop();
  const end = done.last ? (parseBridgeTimestamp(done.last) ?? 0) / 1000 : nowMs();
  const lastTaken = bridge.db.prepare<[number], string | null>('SELECT MAX(taken_at) FROM autopoll_ledger WHERE message_id > ?').pluck().get(mark);
  const totalSec = (end - t0) / 1000;
  return {
    run,
    n,
    insertBatch: config.insertBatch,
    answered: done.n,
    timedOut,
    insertSec: round((insertedAt - t0) / 1000, 2),
    lastTakenSec: lastTaken ? round(((parseBridgeTimestamp(lastTaken) ?? 0) / 1000 - t0) / 1000, 2) : null,
    totalSec: round(totalSec, 2),
    questionsPerSec: round(done.n / totalSec, 0),
    cpu: usage,
    peakBacklog: {
      questions: Math.max(0, ...timeline.map((s) => s.qWait)),
      answers: Math.max(0, ...timeline.map((s) => s.aWait)),
    },
    timeline,
  };
}

/**
 * Parses INFO commandstats; per-question figures divide by the questions answered meanwhile.
 * Since Redis 7 the commands a script runs are counted too, so evalsha's time includes theirs.
 */
function topCommands(info: string, questions: number, top = 12): ScenarioResult['redisCommands'] {
  const q = Math.max(1, questions);
  return [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)]
    .map((m) => ({ command: m[1]!, calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) }))
    .sort((a, b) => b.usec - a.usec)
    .slice(0, top)
    .map((r) => ({ command: r.command, calls: r.calls, perQuestion: round(r.calls / q, 2), usecPerCall: r.usecPerCall, usecPerQuestion: round(r.usec / q, 1) }));
}
