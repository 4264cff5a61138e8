/** The pipeline benchmark's printed report: the scenarios side by side, the verdicts, notes. */
import { availableParallelism } from 'node:os';
import type { LatencyResult, PipelineResult, ScenarioResult } from '../pipeline.js';
import { round } from '../../test/support/numbers.js';
import { table, type Distribution } from '../numbers.js';

export function formatPipeline(result: PipelineResult): string {
  const [empty, old] = result.scenarios;
  if (!empty) return '(no results)';
  const rows: string[][] = [['', 'empty bridge', old ? `${(old.oldMessages / 1e6).toLocaleString('en-US')}M old messages` : '', 'old vs empty (>1 worse)', 'target']];
  rows.push(...throughputRows(result, empty, old), ...latencyRows(result, empty, old), ...setupRows(empty, old));
  return [table(rows), '', ...verdicts(result).map((v) => `  ${v}`), ...warnings(result).map((w) => `  note: ${w}`)].join('\n');
}

const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${round(a / b, 2)}x` : '-');
const meets = (ok: boolean) => (ok ? 'met' : 'MISSED');

function throughputRows(result: PipelineResult, empty: ScenarioResult, old: ScenarioResult | undefined): string[][] {
  const t = result.targets;
  const rows: string[][] = [];
  rows.push([
    `throughput (q/s, median of ${empty.throughputRuns.length})`,
    cell(empty.throughput.questionsPerSec),
    old ? cell(old.throughput.questionsPerSec) : '',
    old ? ratio(empty.throughput.questionsPerSec, old.throughput.questionsPerSec) : '',
    `>= ${t.throughputQps}; old within ${t.oldMessagesFactor}x`,
  ]);
  const runs = (s: ScenarioResult) => s.throughputRuns.map((r) => r.questionsPerSec).join(', ');
  rows.push(['  all runs', runs(empty), old ? runs(old) : '', '', '']);
  rows.push(['  (median run) answered / asked', `${empty.throughput.answered}/${empty.throughput.n}`, old ? `${old.throughput.answered}/${old.throughput.n}` : '', '', '']);
  rows.push(['  inserts done after (s)', cell(empty.throughput.insertSec), old ? cell(old.throughput.insertSec) : '', '', '']);
  rows.push(['  last taken after (s)', cell(empty.throughput.lastTakenSec), old ? cell(old.throughput.lastTakenSec) : '', '', '']);
  rows.push(['  last answer after (s)', cell(empty.throughput.totalSec), old ? cell(old.throughput.totalSec) : '', '', '']);
  rows.push([
    '  peak backlog questions/answers',
    `${empty.throughput.peakBacklog.questions} / ${empty.throughput.peakBacklog.answers}`,
    old ? `${old.throughput.peakBacklog.questions} / ${old.throughput.peakBacklog.answers}` : '', '', '',
  ]);
  const perQuestion = (s: ScenarioResult) => {
    const c = s.throughput.cpu;
    const ours = ['producer', 'consumer', 'redis'].reduce((sum, k) => sum + (c[k]?.cpuSec ?? 0), 0);
    return s.throughput.answered ? `${Math.round((ours / s.throughput.answered) * 1e6)} µs` : '-';
  };
  rows.push(['  cpu per question (prod+cons+redis)', perQuestion(empty), old ? perQuestion(old) : '', '', '']);
  for (const who of ['producer', 'consumer', 'redis', 'bench', 'machine']) {
    const c = (s: ScenarioResult) => s.throughput.cpu[who];
    const fmt = (s: ScenarioResult) => (c(s) ? `${c(s)!.percentOfOneCore}% (${c(s)!.cpuSec} s)` : '-');
    rows.push([`  cpu ${who}`, fmt(empty), old ? fmt(old) : '', '', who === 'machine' ? `of ${availableParallelism() * 100}%` : '']);
  }
  return rows;
}

function latencyRows(result: PipelineResult, empty: ScenarioResult, old: ScenarioResult | undefined): string[][] {
  const t = result.targets;
  const rows: string[][] = [];
  rows.push([
    'pickup p50 (ms)', cell(empty.latency.pickupMs?.p50), old ? cell(old.latency.pickupMs?.p50) : '',
    old ? ratio(old.latency.pickupMs?.p50, empty.latency.pickupMs?.p50) : '', `< ${t.pickupP50Ms}; old within ${t.oldMessagesFactor}x`,
  ]);
  rows.push(['pickup p99 (ms)', cell(empty.latency.pickupMs?.p99), old ? cell(old.latency.pickupMs?.p99) : '', old ? ratio(old.latency.pickupMs?.p99, empty.latency.pickupMs?.p99) : '', '']);
  const steps: Array<[string, keyof LatencyResult]> = [
    ['  insert -> enqueued p50/p99', 'insertToEnqueuedMs'],
    ['  enqueued -> active p50/p99', 'enqueuedToActiveMs'],
    ['  insert -> answer row p50/p99', 'insertToAnswerMs'],
    ['  (bench insert call p50/p99)', 'insertCallMs'],
  ];
  for (const [label, key] of steps) {
    const d = (s: ScenarioResult) => s.latency[key] as Distribution | null;
    const fmt = (s: ScenarioResult) => (d(s) ? `${d(s)!.p50} / ${d(s)!.p99}` : '-');
    rows.push([label, fmt(empty), old ? fmt(old) : '', '', '']);
  }
  return rows;
}

/** Start-up, the seeding of old messages, and the answered-once check. */
function setupRows(empty: ScenarioResult, old: ScenarioResult | undefined): string[][] {
  const rows: string[][] = [];
  rows.push(['producer ready after (s)', cell(empty.producerReadySec), old ? cell(old.producerReadySec) : '', '', '']);
  if (old?.seed) rows.push(['old messages inserted in (s)', '', `${old.seed.seconds} (${old.seed.fileMB} MB)`, '', '']);
  rows.push([
    'answers / asked, distinct',
    `${empty.check.responseRows}/${empty.check.asked}, ${empty.check.distinctQueryIds}`,
    old ? `${old.check.responseRows}/${old.check.asked}, ${old.check.distinctQueryIds}` : '', '', 'all, once',
  ]);
  return rows;
}

function verdicts(result: PipelineResult): string[] {
  const t = result.targets;
  const verdicts: string[] = [];
  for (const s of result.scenarios) {
    verdicts.push(`${s.scenario}: throughput ${meets(s.throughput.questionsPerSec >= t.throughputQps)} (${s.throughput.questionsPerSec} vs >= ${t.throughputQps} q/s)`);
    verdicts.push(`${s.scenario}: pickup p50 ${meets((s.latency.pickupMs?.p50 ?? Infinity) < t.pickupP50Ms)} (${s.latency.pickupMs?.p50} vs < ${t.pickupP50Ms} ms)`);
  }
  if (result.oldVsEmpty) {
    const o = result.oldVsEmpty;
    verdicts.push(`old vs empty: throughput ${meets(o.throughputSlowdown <= t.oldMessagesFactor)} (${o.throughputSlowdown}x the empty bridge's time per question), pickup p50 ${meets((o.pickupP50Factor ?? Infinity) <= t.oldMessagesFactor)} (${o.pickupP50Factor}x)`);
  }
  return verdicts;
}

function warnings(result: PipelineResult): string[] {
  return result.scenarios
    .filter((s) => s.logLines.producerWarnings + s.logLines.producerErrors + s.logLines.consumerWarnings + s.logLines.consumerErrors > 0)
    .map((s) => `${s.scenario}: log lines at warn/error: producer ${s.logLines.producerWarnings}/${s.logLines.producerErrors}, consumer ${s.logLines.consumerWarnings}/${s.logLines.consumerErrors}; first: ${s.logLines.first.join(' | ')}`);
}
