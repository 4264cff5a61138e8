import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { CapacityResult, CapacitySize } from '../../bench/capacity.js';
import { withIdeal } from '../../bench/capacity/figures.js';
import type { ClaudeResult, PhaseResult } from '../../bench/claude.js';
import type { IdleResult } from '../../bench/idle.js';
import type { PipelineResult, ScenarioResult, ThroughputResult } from '../../bench/pipeline.js';
import { buildCharts, capacityChart, claudeChart, niceStep, pipelineLatencyChart, pipelineThroughputChart, scaleChart, soakCpuChart } from '../../bench/report/charts.js';
import type { BenchEnvironment } from '../../bench/report/environment.js';
import { renderReport, SOAK_ABSENT, type ReportInput } from '../../bench/report/markdown.js';
import { renderSvg } from '../../bench/report/render.js';
import { readSoak } from '../../bench/report/soak.js';
import type { ScalePhase, ScaleResult } from '../../bench/scale.js';
import type { StartupResult } from '../../bench/startup.js';
import type { Distribution } from '../../bench/numbers.js';

const dist = (p50: number, p99: number): Distribution => ({ n: 4, min: 0, p50, p90: p99, p99, max: p99 * 2, mean: p50 });

function run(n: number, qps: number): ThroughputResult {
  const cpu = { producer: { cpuSec: 0.5, percentOfOneCore: 50 }, consumer: { cpuSec: 0.3, percentOfOneCore: 30 }, redis: { cpuSec: 0.2, percentOfOneCore: 20 }, machine: { cpuSec: 2, percentOfOneCore: 190 } };
  return {
    run: n, n: 1000, insertBatch: 100, answered: 1000, timedOut: false, insertSec: 0.2, lastTakenSec: 0.4, totalSec: 0.5, questionsPerSec: qps, cpu,
    peakBacklog: { questions: 10, answers: 5 }, timeline: [],
  };
}

function scenario(oldMessages: number, qps: number[], pickup: Distribution, samples: number[]): ScenarioResult {
  const runs = qps.map((q, i) => run(i + 1, q));
  return {
    scenario: oldMessages ? 'old' : 'empty',
    oldMessages,
    seed: oldMessages ? { seconds: 10, fileMB: 200 } : null,
    producerReadySec: oldMessages ? 2 : 0.5,
    latency: {
      n: samples.length, gapMs: 10, pickupMs: pickup, pickupSamplesMs: samples, negativeSamples: samples.filter((s) => s < 0).length,
      insertCallMs: dist(0.3, 1), insertToEnqueuedMs: dist(0.4, 2), enqueuedToActiveMs: dist(0.5, 3), insertToAnswerMs: dist(4, 9), missingJobs: 0,
    },
    throughput: runs[1]!,
    throughputRuns: runs,
    redisCommands: [],
    check: { asked: 3504, responseRows: 3504, distinctQueryIds: 3504, answeredTwice: 0, unreadForB: 0, ledger: { answered: 3504 } },
    logLines: { producerWarnings: 0, producerErrors: 0, consumerWarnings: 0, consumerErrors: 0, first: [] },
  };
}

const PIPELINE: PipelineResult = {
  benchmark: 'pipeline',
  targets: { throughputQps: 2000, pickupP50Ms: 20, oldMessagesFactor: 2 },
  config: { throughputN: 1000, throughputRepeat: 3, insertBatch: 100, latencyN: 4, latencyGapMs: 10, warmupN: 500, oldMessages: 1_000_000, sessions: 64, throughputTimeoutMs: 100_000 },
  scenarios: [
    scenario(0, [2100, 2345, 2500], dist(0.6, 12), [-0.2, 0.6, 1.1, 12]),
    {
      ...scenario(1_000_000, [1500, 1700, 1800], dist(0.9, 30), [0.5, 0.9, 2, 30]),
      logLines: { producerWarnings: 3, producerErrors: 0, consumerWarnings: 0, consumerErrors: 0, first: ['producer warn: answer dropped', 'producer warn: answer dropped'] },
    },
  ],
  oldVsEmpty: { throughputSlowdown: 1.38, pickupP50Factor: 1.5, pickupP99Factor: 2.5 },
};

function phase(sessions: number | null, secPerQuestion: number, speedup: number | null, target: number | null): PhaseResult {
  return {
    phase: sessions === null ? 'baseline' : `pool of ${sessions}`, sessions, planned: 200, done: 200, answered: 200, failed: 0, failures: [], stoppedBy: null,
    totalSec: secPerQuestion * 200, secPerQuestion, speedup, target, questionMs: dist(secPerQuestion * 1000, secPerQuestion * 1500), startSec: null, closeSec: null,
    sessionsLaunched: null, sessionsReplaced: null, api: { messages: 200, all: 400, messagesPerQuestion: 1, withSeveralQuestions: 0 },
    cpu: { machine: null, claude: null, bench: null, claudeMsPerQuestion: 90, machineMsPerQuestion: 120 }, sessionExits: null, logWarnings: 0, logErrors: 0, notable: [],
  };
}

const CLAUDE: ClaudeResult = {
  benchmark: 'claude',
  targets: { 1: 5, 4: 20 },
  config: { n: 200, baselineN: 200, baselineBudgetSec: 180, pools: [1, 4], poolBudgetSec: 90, model: 'haiku', turnTimeoutSec: 60, maxTurnsPerSession: 50, maxContextTokens: 100_000, executable: '/x/claude' },
  binary: { path: '/x/claude', version: '9.9.9 (Claude Code)' },
  phases: [phase(null, 0.8, null, null), phase(1, 0.08, 10, 5), phase(4, 0.05, 16, 20)],
  leftoverProcesses: 0,
};

function scalePhase(consumers: number, qps: number): ScalePhase {
  const asked = consumers * 100;
  return {
    consumers, sessionsTotal: consumers * 4, idealQps: consumers * 8, producerReadySec: 0.5, consumersReadySec: 0.6, windowSec: 30, answeredInWindow: qps * 30, questionsPerSec: qps,
    perConsumer: Object.fromEntries(Array.from({ length: consumers }, (_, i) => [`c${i + 1}`, { window: 240, total: 300 }])),
    queue: { samples: 100, minWaiting: 20, maxWaiting: 30, minActive: 4, maxActive: 4 }, asked, drainSec: 1,
    cpu: { producer: { cpuSec: 1.5, percentOfOneCore: 5 }, 'consumer c1': { cpuSec: 3, percentOfOneCore: 10 }, redis: null, bench: { cpuSec: 0.6, percentOfOneCore: 2 }, machine: { cpuSec: 15.3, percentOfOneCore: 51 } },
    jobs: { completed: asked, failed: 0, startedMoreThanOnce: 0, withoutProcessedBy: 0 },
    check: { asked, responseRows: asked, distinctQueryIds: asked, answeredTwice: 0, unreadForB: 0, ledger: { answered: asked } },
    logLines: { warnings: 0, errors: 0, first: [] },
  };
}

const SCALE: ScaleResult = {
  benchmark: 'scale',
  targets: { efficiency: 0.9 },
  config: { consumers: [1, 2, 4], sessionsPerConsumer: 4, stubLatencyMs: 500, windowSec: 30, warmupSec: 3, backlogSec: 3 },
  phases: [scalePhase(1, 7.99), scalePhase(2, 16), scalePhase(4, 25)],
  efficiency: [{ consumers: 1, efficiency: 1 }, { consumers: 2, efficiency: 1.001 }, { consumers: 4, efficiency: 0.782 }],
};

function capacitySize(sessions: number, qps: number, answered = sessions * 10): CapacitySize {
  const questions = sessions * 10;
  return {
    sessions, questions, consumerReadySec: 3, totalSec: questions / qps, questionsPerSec: qps, idealQps: null, speedup: null, target: null,
    questionMs: dist(1600, 3200),
    cpuMsPerQuestion: { producer: 2, consumer: 5, claude: 130, redis: 1, bench: 10, machine: 200 },
    cpuSec: { producer: 0.1, consumer: 0.2, claude: 5, redis: 0.05, bench: 0.4, machine: 8 }, meteredSec: 22.5,
    rssPerSessionMB: dist(195, 210), rssTotalMB: 200 * sessions,
    check: {
      asked: questions, responseRows: answered, notOnce: answered === questions ? [] : ['q:0'], notOnceCount: questions - answered, errorResponses: 0,
      wrongAnswers: 0, wrongAnswerSample: [], ledgerWrong: 0, ledgerWrongSample: [], unreadForB: 0,
    },
    logLines: { warnings: 0, errors: 0, first: [] },
  };
}

const CAPACITY_CONFIG: CapacityResult['config'] = {
  sizes: [1, 4, 32], questionsPerSession: 10, latencyMs: 1500, baselineN: 12, baselineBudgetSec: 180, shard: true, shardN: 40, shardSlowN: 8, shardSessions: 4, executable: '/x/claude',
};

/** 1 session at 0.625 q/s (1.6 s a question: 0.1 s beyond the latency); the baseline at 0.4 q/s. */
const CAPACITY_FIGURES = withIdeal([capacitySize(1, 0.625), capacitySize(4, 2.4), capacitySize(32, 11, 319)], 0.4, 1500, 30);

const CAPACITY: CapacityResult = {
  benchmark: 'capacity',
  targets: { speedupAt32: 30, shardAtZeroLatency: 15 },
  config: CAPACITY_CONFIG,
  overheadSec: CAPACITY_FIGURES.overheadSec,
  baseline: { ...phase(null, 2.5, null, null), done: 12, questionsPerSec: 0.4 },
  sizes: CAPACITY_FIGURES.sizes,
  shard: [
    { latencyMs: 0, sessions: 4, replica: { questions: 40, totalSec: 40, questionsPerSec: 1, answeredOnce: true, producerReadySec: null }, autopoll: { questions: 40, totalSec: 2, questionsPerSec: 20, answeredOnce: true, producerReadySec: 0.4 }, speedup: 20, target: 15 },
    { latencyMs: 1500, sessions: 4, replica: { questions: 8, totalSec: 20, questionsPerSec: 0.4, answeredOnce: true, producerReadySec: null }, autopoll: { questions: 40, totalSec: 16, questionsPerSec: 2.5, answeredOnce: true, producerReadySec: 0.4 }, speedup: 6.3, target: null },
  ],
  leftoverProcesses: 0,
};

/** The shape test/chaos/soak.chaos.test.ts writes, cut down. */
const SOAK = {
  benchmark: 'soak',
  date: '2026-11-22T06:29:00.000Z',
  phases: {
    stub: {
      phase: 'stub', questions: 100000, durationSec: 50.1, questionsPerSec: 1994.1,
      cpu: { msPerQuestion: { producer: 0.236, consumer: 0.162, redis: 0.274, total: 0.672 }, msPerQuestionAfterWarmup: { producer: 0.2, total: 0.6 } },
      redis: { commands: 7773000, commandsPerQuestion: 77.73, scriptCallsPerQuestion: 4.02, top: [{ command: 'xadd', perQuestion: 8 }] },
      sqlite: { commitsPerQuestion: 0.027, rowsWrittenPerQuestion: 5.004 },
      resources: {
        statistic: 'median of the samples', limit: 0.1, judgedMemory: 'producer and consumer: heldRssKb',
        growth: [
          { metric: 'producer.rssKb', first: 192420, last: 209144, growthPercent: 8.7, samples: [9, 9] },
          { metric: 'redis.fds', first: 13, last: 13, growthPercent: 0, samples: [9, 9], judged: true },
          { metric: 'producer.heapCommittedKb', first: 80000, last: 120000, growthPercent: 50, samples: [9, 9], judged: false },
        ],
      },
      check: { asked: 100001, responseRows: 100001, notOnce: [], notOnceCount: 0 },
    },
    claude: {
      phase: 'claude', questions: 5000, durationSec: 600, questionsPerSec: 8.3,
      cpu: { msPerQuestion: { producer: 1, consumer: 2, claudeCode: 90, redis: 1, total: 94 } },
      redis: { commandsPerQuestion: 80 },
      sqlite: { commitsPerQuestion: 0.5, rowsWrittenPerQuestion: 5 },
      resources: { limit: 0.1, growth: [{ metric: 'consumer.descRssKb', first: 100, last: 130, growthPercent: 30 }, { metric: 'consumer.descFds', first: 0, last: 4, growthPercent: 'infinite' }] },
      check: { asked: 5000, responseRows: 5000, notOnceCount: 0 },
    },
  },
};

const ENV: BenchEnvironment = {
  collectedAt: '2026-11-22T06:00:00.000Z',
  machine: { cpuModel: 'Test CPU 3000', cores: 2, memoryGiB: 23.5, os: 'Debian GNU/Linux 12 (bookworm)', kernel: 'Linux 6.1.0', arch: 'x64' },
  loadAverage: [0.5, 0.25, 0.1],
  versions: {
    node: 'v20.0.0', redisServer: '7.0.15', claudeCode: '1.0.0 (Claude Code)', bullmq: '6.7.0', betterSqlite3: '12.11.1', sqlite: '3.50.0',
    autopoll: { version: '0.1.0', commit: '0123456789abcdef0123456789abcdef01234567', dirty: true },
  },
};

function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    generatedAt: '2026-11-22T07:08:09.000Z',
    command: 'npm run bench',
    environment: ENV,
    environmentFrom: 'As recorded by the run',
    pipeline: { ...PIPELINE, finishedAt: '2026-11-22T06:10:00.000Z', environment: ENV },
    claude: { ...CLAUDE, finishedAt: '2026-11-22T06:14:00.000Z', environment: ENV },
    scale: { ...SCALE, finishedAt: '2026-11-22T06:16:00.000Z' },
    capacity: null,
    soak: SOAK,
    charts: { 'pipeline-throughput': 'report/pipeline-throughput.svg', claude: 'report/claude.svg', scale: 'report/scale.svg' },
    ...over,
  };
}

/** Each expected row is a line of the Markdown. */
function expectRows(md: string, rows: string[]): void {
  const lines = md.split('\n');
  for (const want of rows) expect(lines, want).toContain(want);
}

describe('renderReport', () => {
  const md = renderReport(input());

  it('heads the report with the command, the date and a summary of every figure against its target', () => {
    expect(md.startsWith('# autopoll benchmark report\n\nWritten by `npm run bench` on 2026-11-22 07:08 UTC')).toBe(true);
    expectRows(md, [
      '| end-to-end throughput, empty bridge | 2,345 q/s | >= 2,000 q/s | met |',
      "| end-to-end throughput, 1,000,000 old messages | 1,700 q/s (1.38x the empty bridge's time per question) | >= 2,000 q/s; within 2x | **missed** |",
      '| pickup latency p50 / p99, empty bridge | 0.6 / 12 ms | p50 < 20 ms | met |',
      '| pickup latency p50 / p99, 1,000,000 old messages | 0.9 / 30 ms (p50 1.5x) | p50 < 20 ms; within 2x | met |',
      '| seconds per question through Claude Code, one `claude -p` per question | 0.8 s | baseline |  |',
      '| seconds per question through Claude Code, pool, 1 session | 0.08 s (10x) | >= 5x the baseline | met |',
      '| seconds per question through Claude Code, pool, 4 sessions | 0.05 s (16x) | >= 20x the baseline | **missed** |',
      '| scale-out efficiency at 4 consumers | 0.78 (25.00 of 32 q/s ideal) | >= 0.9 | **missed** |',
      '| resource use per question, soak (stub answerer) | CPU 0.672 ms, 77.73 Redis commands, 0.027 SQLite commits (5.004 rows written) |  |  |',
      '| resource growth after warm-up (soak: RSS, descriptors, processes) | largest: consumer.descFds infinite (Claude Code) | <= 10% | **missed** |',
    ]);
  });

  it('says how much other work the machine did meanwhile', () => {
    expect(md).toContain(
      "CPU used by other work on the machine while each benchmark measured (the machine's less the benchmark's own processes, % of one core of 200%): " +
        'pipeline throughput (empty bridge) 90%, pipeline throughput (1,000,000 old messages) 90%, Claude Code (one `claude -p` per question) -, ' +
        'Claude Code (pool, 1 session) -, Claude Code (pool, 4 sessions) -, scale-out (1) 34%, scale-out (2) 34%, scale-out (4) 34%. ',
    );
  });

  it('names the machine, the versions and each run with its commit', () => {
    expectRows(md, [
      '| CPU | Test CPU 3000, 2 cores |',
      '| memory | 23.5 GiB |',
      '| OS, kernel | Debian GNU/Linux 12 (bookworm), Linux 6.1.0 (x64) |',
      '| load average at the start (1, 5, 15 min) | 0.5, 0.25, 0.1 |',
    ]);
    // The binary the Claude benchmark ran, not the one found when the report was written.
    expectRows(md, [
      '| Claude Code | 9.9.9 |',
      '| better-sqlite3 | 12.11.1 (SQLite 3.50.0) |',
      '| autopoll | 0.1.0, commit `0123456789ab` + uncommitted changes |',
      '| pipeline | 2026-11-22 06:10 UTC | `0123456789ab` + uncommitted changes | 1,000 questions x 3 runs, 4 latency questions, 1,000,000 old messages |',
      '| scale | 2026-11-22 06:16 UTC | - | 1, 2, 4 consumers, 30 s windows |',
    ]);
  });

  it('gives each benchmark its table and links the charts that were written, only those', () => {
    expectRows(md, [
      '| throughput, median of 3 | 2,345 q/s | 1,700 q/s | >= 2,000 q/s |',
      '|   every run | 2,100, 2,345, 2,500 | 1,500, 1,700, 1,800 |  |',
      '|   CPU per question (producer + consumer + Redis) | 1,000 µs | 1,000 µs |  |',
    ]);
    expect(md).toContain('Log lines at warn / error during the 1,000,000 old messages scenario: producer 3 / 0, consumer 0 / 0; first: `producer warn: answer dropped`.');
    expect(md).not.toContain('during the empty bridge scenario');
    expect(md).toContain('Pickup samples below zero (the producer ran before the bench read its clock after the insert): 1 of 4 (empty bridge).');
    expectRows(md, [
      '| seconds per question | 0.8 s | 0.08 s | 0.05 s |',
      '| target |  | >= 5x: met | >= 20x: **missed** |',
      '| 4 | 16 | 25.00 q/s | 32 q/s | 78% | 0.78 | c1 240, c2 240, c3 240, c4 240 | 20 | 34% | yes (400/400) |',
      '|   CPU of the machine, % of one core | 190% | 190% | of 200% |',
      '|   of it, producer + consumer + Redis / the bench | 100% / - | 100% / - |  |',
      '|   of it, other work on the machine | 90% | 90% |  |',
      '| CPU of other work on the machine, % of one core | - | - | - |',
    ]);
    expect(md).toContain('![throughput by scenario](report/pipeline-throughput.svg)');
    expect(md).toContain('![scale-out throughput, measured vs ideal](report/scale.svg)');
    expect(md).not.toContain('pipeline-latency.svg');
  });

  it('shows the soak per phase with its growth table', () => {
    expectRows(md, [
      '| per question | stub answerer | Claude Code |',
      '| CPU, total | 0.672 ms | 94 ms |',
      '|   by process | producer 0.236, consumer 0.162, redis 0.274 | producer 1, consumer 2, claudeCode 90, redis 1 |',
      '| Redis commands | 77.73 (4.02 Lua script calls) | 80 |',
      '| answered exactly once | yes (100,001 answers, 100,001 asked) | yes (5,000 answers, 5,000 asked) |',
      '| stub answerer | producer.rssKb | 192,420 | 209,144 | +8.7% | <= 10% |',
      '| Claude Code | consumer.descRssKb | 100 | 130 | +30% **over** | <= 10% |',
      '| stub answerer | producer.heapCommittedKb | 80,000 | 120,000 | +50% | shown, not judged |',
    ]);
    expect(md).toContain('\nMemory judged: producer and consumer: heldRssKb.\n');
  });

  it('holds only the judged growth figures to the limit', () => {
    const soak = structuredClone(SOAK);
    soak.phases.claude.resources.growth = [{ metric: 'consumer.descRssKb', first: 100, last: 100, growthPercent: 0 }];
    expectRows(renderReport(input({ soak })), [
      '| resource growth after warm-up (soak: RSS, descriptors, processes) | largest: producer.rssKb +8.7% (stub answerer) | <= 10% | met |',
    ]);
  });

  it('the idle benchmark: its CPU against the target and whether the bursts around it were answered once', () => {
    const check = (asked: number, twice = 0) => ({ asked, responseRows: asked + twice, distinctQueryIds: asked, answeredTwice: twice, unreadForB: 0, ledger: { answered: asked } });
    const idle: IdleResult = {
      benchmark: 'idle', targets: { idleCpuMsPerSec: 30 }, config: { sessions: 16, burst: 32, idleSec: 90, windowSec: 30, sessionIdleTimeoutSec: undefined, minSessions: undefined },
      startSec: 2.1, sessionsAtStart: 1,
      first: { asked: 32, seconds: 9.5, peakSessions: 16, check: check(32) },
      idle: { windowSec: 30.01, sessions: 1, processes: 1, rssMb: 310, cpuMsPerSec: { total: 4.2, consumer: 1.1, below: 3.1 } },
      second: { asked: 32, seconds: 8.8, peakSessions: 16, check: check(64) },
    };
    const text = renderReport(input({ idle }));
    expectRows(text, [
      '| idle `consumer --sessions 16`, 90 s after its last question | 4.2 ms CPU/s | <= 30 | met |',
      '| every question answered exactly once (idle, bursts before and after) | yes | yes | met |',
    ]);
    expect(text).toContain('## Idle: an elastic pool between bursts');
    expect(text).toContain('| idle | 1 | 30.01 s window | 4.2 ms/s (consumer 1.1, below it 3.1) | 310 MB |  |');
    const busy = renderReport(input({ idle: { ...idle, idle: { ...idle.idle, cpuMsPerSec: { total: 65, consumer: 5, below: 60 } }, second: { ...idle.second, check: check(64, 1) } } }));
    expectRows(busy, [
      '| idle `consumer --sessions 16`, 90 s after its last question | 65 ms CPU/s | <= 30 | **missed** |',
      '| every question answered exactly once (idle, bursts before and after) | **no** | yes | **missed** |',
    ]);
  });

  it('says what was not measured, and how to measure it', () => {
    const empty = renderReport(input({ pipeline: null, claude: null, scale: null, soak: null, charts: {} }));
    expectRows(empty, [
      '| pipeline | not measured in this run: run `npm run bench -- pipeline` |  |  |',
      '| Claude Code | not measured in this run: run `npm run bench -- claude` |  |  |',
      '| scale-out | not measured in this run: run `npm run bench -- scale` |  |  |',
      '| idle consumer | not measured in this run: run `npm run bench -- idle` |  |  |',
      `| resource use per question (soak) | ${SOAK_ABSENT} |  |  |`,
    ]);
    expect(SOAK_ABSENT).toBe('not measured in this run: run `npm run test:chaos` (soak)');
    expect(empty).toContain(`## Resource use per question (soak)\n\n${SOAK_ABSENT}; it writes`);
    expect(empty).not.toContain('![');
    expect(empty.endsWith('\n') && !empty.endsWith('\n\n')).toBe(true);
  });
});

describe('the capacity benchmark', () => {
  const md = renderReport(input({ capacity: CAPACITY, charts: { capacity: 'report/capacity.svg' } }));

  it('derives the ideal from the overhead measured with one session, and the speed-up over the baseline', () => {
    expect(CAPACITY.overheadSec).toBe(0.1);
    expect(CAPACITY.sizes.map((s) => [s.sessions, s.idealQps, s.speedup, s.target])).toEqual([[1, 0.63, 1.6, null], [4, 2.5, 6, null], [32, 20, 27.5, 30]]);
    const noOne = withIdeal([capacitySize(4, 2.4)], null, 1500, 30);
    expect(noOne.overheadSec).toBeNull();
    expect(noOne.sizes[0]).toMatchObject({ idealQps: null, speedup: null });
  });

  it('summarises throughput against the floors, and whether every answer came once', () => {
    expectRows(md, [
      '| throughput of one host, `--sessions 32`, 1.5 s API latency | 11 q/s (27.5x the baseline; ideal 20 q/s) | >= 30x the baseline | **missed** |',
      '| throughput of one host, `--sessions 4`, 1.5 s API latency | 2.4 q/s (6x the baseline; ideal 2.5 q/s) |  |  |',
      '| every question answered exactly once (capacity) | **no** | yes | **missed** |',
      '| vs the old shard, 40 questions waiting, zero-latency API, `--sessions 4` | 20x (40 s for 40 vs 2 s for 40) | >= 15x | met |',
      '| vs the old shard, 40 questions waiting, 1.5 s API latency, `--sessions 4` | 6.3x (20 s for 8 vs 16 s for 40) |  |  |',
    ]);
  });

  it('gives a row per size with CPU by process and RSS per session, the shard table and the chart', () => {
    expectRows(md, [
      '| 32 | 320 | 11 q/s | 20 q/s | 27.5x (>= 30x: **missed**) | 1,600 / 3,200 ms | 2 ms | 5 ms | 130 ms | 1 ms | 10 ms | 200 ms | 195 / 420 MB | **no** (319/320) |',
      '| 1 | 10 | 0.63 q/s | 0.63 q/s | 1.6x | 1,600 / 3,200 ms | 2 ms | 5 ms | 130 ms | 1 ms | 10 ms | 200 ms | 195 / 420 MB | yes (10/10) |',
      '| zero-latency API | 40 questions in 40 s (1 q/s) | 40 questions in 2 s (20 q/s; serving after 0.4 s) | 20x (>= 15x: met) | yes / yes |',
      '| capacity | - | - | --sessions 1, 4, 32, 10 questions a session, 1500 ms API latency |',
    ]);
    expect(md).toContain('![throughput against sessions, measured vs ideal](report/capacity.svg)');
    expect(md).toContain('capacity (1 session) 10%, capacity (4 sessions) 10%, capacity (32 sessions) 10%.');
  });

  it('says how to measure it when it did not run', () => {
    expectRows(renderReport(input()), ['| capacity of one host | not measured in this run: run `npm run bench -- capacity` |  |  |']);
  });

  it('charts measured throughput over the ideal by sessions', () => {
    const values = (capacityChart(CAPACITY)!.data as { values: unknown[] }).values;
    expect(values).toContainEqual({ sessions: 32, series: 'measured', qps: 11 });
    expect(values).toContainEqual({ sessions: 32, series: 'ideal', qps: 20 });
    expect(capacityChart({ ...CAPACITY, sizes: [] })).toBeNull();
  });
});

describe('the start-up section', () => {
  const d = (p50: number, max: number) => ({ n: 5, min: p50, p50, p90: max, p99: max, max, mean: p50 });
  const STARTUP: StartupResult = {
    benchmark: 'startup',
    targets: { helpMs: 200, firstAnswerMs: 500 },
    config: { helpRuns: 10, producerRuns: 5, claudeRuns: 3 },
    help: { help: d(96, 120), statusHelp: d(210, 300), nodeAlone: d(60, 70) },
    firstAnswer: d(420, 610),
    claudeWarm: d(900, 1100),
  };

  it('puts each figure beside its floor, in the summary and in its section', () => {
    const md = renderReport(input({ startup: STARTUP }));
    expectRows(md, [
      '| `autopoll --help`, wall p50 | 96 ms (max 120 ms) | <= 200 ms | met |',
      '| `autopoll status --help`, wall p50 | 210 ms (max 300 ms) | <= 200 ms | **missed** |',
      '| producer spawn -> first answer row, p50 | 420 ms (max 610 ms) | <= 500 ms | met |',
      '| consumer spawn -> first Claude Code session warm | 5 | 900 ms | 1,100 ms |  |  |',
    ]);
  });

  it('says how to measure it when it was not run', () => {
    expectRows(renderReport(input({ startup: null })), ['| start-up | not measured in this run: run `npm run bench -- startup` |  |  |']);
  });
});

describe('readSoak', () => {
  it('reads each phase of the soak file', () => {
    const s = readSoak(SOAK)!;
    expect(s.date).toBe('2026-11-22T06:29:00.000Z');
    expect(s.phases.map((p) => p.name)).toEqual(['stub', 'claude']);
    expect(s.phases[0]).toMatchObject({
      questions: 100000, cpuMs: { total: 0.672, redis: 0.274 }, redisCommands: 77.73, redisScriptCalls: 4.02, sqliteCommits: 0.027, sqliteRowsWritten: 5.004, growthLimit: 0.1,
      check: { asked: 100001, responseRows: 100001, notOnce: 0 },
    });
    expect(s.phases[1]!.growth[1]).toEqual({ metric: 'consumer.descFds', first: 0, last: 4, growthPercent: 'infinite', judged: true });
    // A figure without the flag (a file older than it) is judged.
    expect(s.phases[0]!.growth.map((g) => g.judged)).toEqual([true, true, false]);
    expect(s.phases[0]!.judgedMemory).toBe('producer and consumer: heldRssKb');
  });

  it('is lenient: what is missing or of another type is absent, not an error', () => {
    expect(readSoak(null)).toBeNull();
    expect(readSoak({ benchmark: 'soak' })).toBeNull();
    const p = readSoak({ phases: { x: { cpu: { msPerQuestion: 'lots' }, redis: null, resources: { growth: [1, { first: 'a' }] } }, y: 3 } })!.phases;
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ name: 'x', questions: null, cpuMs: {}, redisCommands: null, growth: [{ metric: '?', first: null, last: null, growthPercent: null }], check: null });
  });
});

describe('charts', () => {
  it('plot the figures of the results', () => {
    const throughput = pipelineThroughputChart(PIPELINE)!;
    expect((throughput.data as { values: unknown[] }).values).toEqual([
      { scenario: 'empty bridge', run: 1, qps: 2100, median: false },
      { scenario: 'empty bridge', run: 2, qps: 2345, median: true },
      { scenario: 'empty bridge', run: 3, qps: 2500, median: false },
      { scenario: '1,000,000 old messages', run: 1, qps: 1500, median: false },
      { scenario: '1,000,000 old messages', run: 2, qps: 1700, median: true },
      { scenario: '1,000,000 old messages', run: 3, qps: 1800, median: false },
    ]);
    const latency = (pipelineLatencyChart(PIPELINE)!.data as { values: Array<{ scenario: string; kind: string; ms: number }> }).values;
    expect(latency.filter((v) => v.kind === 'sample').map((v) => v.ms)).toEqual([-0.2, 0.6, 1.1, 12, 0.5, 0.9, 2, 30]);
    expect(latency.filter((v) => v.kind !== 'sample')).toEqual([
      { scenario: 'empty bridge', kind: 'p50', ms: 0.6 }, { scenario: 'empty bridge', kind: 'p99', ms: 12 }, { scenario: 'empty bridge', kind: 'target', ms: 20 },
      { scenario: '1,000,000 old messages', kind: 'p50', ms: 0.9 }, { scenario: '1,000,000 old messages', kind: 'p99', ms: 30 }, { scenario: '1,000,000 old messages', kind: 'target', ms: 20 },
    ]);
    const claude = (claudeChart(CLAUDE)!.data as { values: Array<Record<string, unknown>> }).values;
    expect(claude.map((v) => [v.phase, v.seconds, v.label, v.targetSeconds])).toEqual([
      ['one claude -p per question', 0.8, '0.8 s', null],
      ['pool, 1 session', 0.08, '0.08 s (10x)', 0.16],
      ['pool, 4 sessions', 0.05, '0.05 s (16x)', 0.04],
    ]);
    const scale = (scaleChart(SCALE)!.data as { values: unknown[] }).values;
    expect(scale).toContainEqual({ consumers: 4, series: 'measured', qps: 25 });
    expect(scale).toContainEqual({ consumers: 4, series: 'ideal', qps: 32 });
    const soak = (soakCpuChart(SOAK)!.data as { values: unknown[] }).values;
    expect(soak).toContainEqual({ phase: 'Claude Code', who: 'claudeCode', ms: 90 });
    expect(soak).not.toContainEqual(expect.objectContaining({ who: 'total' }));
  });

  it('leave out a chart whose results are absent or empty', () => {
    const noSamples: PipelineResult = { ...PIPELINE, scenarios: PIPELINE.scenarios.map((s) => ({ ...s, latency: { ...s.latency, pickupSamplesMs: [] } })) };
    expect(pipelineLatencyChart(noSamples)).toBeNull();
    expect(scaleChart({ ...SCALE, phases: [] })).toBeNull();
    expect(soakCpuChart(null)).toBeNull();
    expect(Object.keys(buildCharts({ pipeline: null, claude: CLAUDE, scale: null, soak: null }))).toEqual(['claude']);
  });

  it('bins latency in steps of 1, 2 or 5 x 10^k', () => {
    expect(niceStep(57, 60)).toBe(1);
    expect(niceStep(30, 60)).toBe(0.5);
    expect(niceStep(500, 60)).toBe(10);
    expect(niceStep(130, 60)).toBe(5);
  });

  it('compile with Vega-Lite without a warning and render to SVG headless', async () => {
    const charts = buildCharts({ pipeline: PIPELINE, claude: CLAUDE, scale: SCALE, capacity: CAPACITY, soak: SOAK });
    expect(Object.keys(charts).sort()).toEqual(['capacity', 'claude', 'pipeline-latency', 'pipeline-throughput', 'scale', 'soak-cpu']);
    for (const [name, spec] of Object.entries(charts)) {
      const warnings: string[] = [];
      const logger = { level: () => logger, error: (...m: unknown[]) => void warnings.push(`${name}: ${m.join(' ')}`), warn: (...m: unknown[]) => void warnings.push(`${name}: ${m.join(' ')}`), info: () => logger, debug: () => logger };
      compile(spec!, { logger: logger as never });
      expect(warnings).toEqual([]);
      const svg = await renderSvg(spec!);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('</svg>');
    }
  });
});
