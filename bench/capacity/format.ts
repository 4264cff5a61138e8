/** The capacity benchmark's printed report: a row per size beside the baseline, then the shard comparison. */
import type { CapacityResult, ShardComparison } from '../capacity.js';
import { table } from '../numbers.js';
import { sizeAnsweredOnce } from './figures.js';
import { CPU_PARTS } from './hostMeter.js';

const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);

export function formatCapacity(r: CapacityResult): string {
  const b = r.baseline;
  const sizes: string[][] = [
    ['sessions', 'questions', 'q/s', 'ideal q/s', 'speed-up', 'floor', 'p50 / p99 ms', ...CPU_PARTS.map((p) => `${p} ms/q`), 'RSS/session MB p50 / max', 'answered once'],
    ...r.sizes.map((s) => [
      String(s.sessions), String(s.questions), cell(s.questionsPerSec), cell(s.idealQps), cell(s.speedup, 'x'), s.target ? `>= ${s.target}x` : '',
      s.questionMs ? `${s.questionMs.p50} / ${s.questionMs.p99}` : '-', ...CPU_PARTS.map((p) => cell(s.cpuMsPerQuestion[p])),
      s.rssPerSessionMB ? `${s.rssPerSessionMB.p50} / ${s.rssPerSessionMB.max}` : '-', sizeAnsweredOnce(s) ? 'yes' : 'NO',
    ]),
  ];
  return [
    `baseline (claude -p per question, serially, ${r.config.latencyMs} ms API): ${b.done} questions, ${cell(b.secPerQuestion)} s per question, ${cell(b.questionsPerSec)} q/s; answered ${b.answered}, failed ${b.failed}`,
    `per-question overhead with one session: ${cell(r.overheadSec, ' s')} beyond the API's ${r.config.latencyMs} ms (the ideal's basis)`,
    '',
    table(sizes),
    ...(r.shard.length ? ['', table(shardRows(r.shard))] : []),
    ...(r.leftoverProcesses ? [`  note: ${r.leftoverProcesses} baseline process(es) were still running at the end`] : []),
  ].join('\n');
}

export function shardRows(shard: ShardComparison[]): string[][] {
  return [
    ['API latency', 'old shard (replica)', 'autopoll', 'speed-up', 'floor', 'answered once'],
    ...shard.map((c) => [
      `${c.latencyMs} ms`,
      `${c.replica.questions} q in ${c.replica.totalSec} s (${c.replica.questionsPerSec} q/s)`,
      `${c.autopoll.questions} q in ${c.autopoll.totalSec} s (${c.autopoll.questionsPerSec} q/s; serving after ${cell(c.autopoll.producerReadySec, ' s')}), --sessions ${c.sessions}`,
      cell(c.speedup, 'x'),
      c.target ? `>= ${c.target}x` : '',
      `${c.replica.answeredOnce ? 'yes' : 'NO'} / ${c.autopoll.answeredOnce ? 'yes' : 'NO'}`,
    ]),
  ];
}
