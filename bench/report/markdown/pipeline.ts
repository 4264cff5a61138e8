/** The pipeline benchmark in bench/REPORT.md: its summary rows and its section. */
import type { PipelineResult, ScenarioResult } from '../../pipeline.js';
import { num, scenarioLabel } from '../labels.js';
import type { ReportInput } from '../markdown.js';
import { chart, logNote, mdTable, otherCpu, p50p99, percent, verdict } from './format.js';

/** Producer + consumer + redis-server CPU over the median throughput run, µs per answered question. */
function cpuPerQuestionUs(s: ScenarioResult): number | null {
  const c = s.throughput.cpu;
  const parts = ['producer', 'consumer', 'redis'].map((k) => c[k]?.cpuSec);
  if (!s.throughput.answered || parts.some((p) => p === undefined)) return null;
  return (parts.reduce((a, b) => a! + b!, 0)! / s.throughput.answered) * 1e6;
}

function pipelineOk(r: PipelineResult, s: ScenarioResult): { throughput: boolean; pickup: boolean } {
  const t = r.targets;
  const old = s.oldMessages > 0 && r.oldVsEmpty;
  return {
    throughput: s.throughput.questionsPerSec >= t.throughputQps && (!old || r.oldVsEmpty!.throughputSlowdown <= t.oldMessagesFactor),
    pickup: (s.latency.pickupMs?.p50 ?? Infinity) < t.pickupP50Ms && (!old || (r.oldVsEmpty!.pickupP50Factor ?? Infinity) <= t.oldMessagesFactor),
  };
}

export function pipelineSummary(r: PipelineResult): string[][] {
  const t = r.targets;
  return r.scenarios.flatMap((s) => {
    const ok = pipelineOk(r, s);
    const old = s.oldMessages > 0 && r.oldVsEmpty;
    return [
      [
        `end-to-end throughput, ${scenarioLabel(s)}`,
        `${num(s.throughput.questionsPerSec)} q/s${old ? ` (${r.oldVsEmpty!.throughputSlowdown}x the empty bridge's time per question)` : ''}`,
        `>= ${num(t.throughputQps)} q/s${old ? `; within ${t.oldMessagesFactor}x` : ''}`,
        verdict(ok.throughput),
      ],
      [
        `pickup latency p50 / p99, ${scenarioLabel(s)}`,
        `${p50p99(s.latency.pickupMs)}${old && r.oldVsEmpty!.pickupP50Factor !== null ? ` (p50 ${r.oldVsEmpty!.pickupP50Factor}x)` : ''}`,
        `p50 < ${t.pickupP50Ms} ms${old ? `; within ${t.oldMessagesFactor}x` : ''}`,
        verdict(ok.pickup),
      ],
    ];
  });
}

export function pipelineSection(input: ReportInput, r: PipelineResult): string[] {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `Real processes: a private \`redis-server\`, the built \`producer\` and \`consumer --answerer stub --sessions ${c.sessions}\`, and a bridge file the bench writes as side \`a\`. ` +
      `Throughput: ${num(c.throughputN)} questions inserted as fast as the bench can (${c.insertBatch} to a transaction), first insert -> last answer row; ` +
      `${c.throughputRepeat} run${c.throughputRepeat === 1 ? '' : 's'} per scenario, the median shown. ` +
      `Pickup latency: ${c.latencyN} questions one every ~${c.latencyGapMs} ms, bridge commit -> BullMQ job active. Method: [README.md#pipeline](README.md#pipeline).`,
    '',
  );
  out.push(mdTable(scenarioRows(input, r)), '');
  const negatives = r.scenarios.filter((s) => s.latency.negativeSamples > 0);
  if (negatives.length) {
    out.push(
      `Pickup samples below zero (the producer ran before the bench read its clock after the insert): ${negatives.map((s) => `${s.latency.negativeSamples} of ${s.latency.n} (${scenarioLabel(s)})`).join(', ')}.`,
      '',
    );
  }
  for (const s of r.scenarios) {
    const l = s.logLines;
    const note = logNote(`the ${scenarioLabel(s)} scenario`, `producer ${l.producerWarnings} / ${l.producerErrors}, consumer ${l.consumerWarnings} / ${l.consumerErrors}`, l.producerWarnings + l.producerErrors + l.consumerWarnings + l.consumerErrors, l.first);
    if (note) out.push(note, '');
  }
  out.push(...chart(input, 'pipeline-throughput', 'throughput by scenario'), ...chart(input, 'pipeline-latency', 'pickup latency histogram'));
  return out;
}

/** The section's table: a column per scenario, the target beside. */
function scenarioRows(input: ReportInput, r: PipelineResult): string[][] {
  const c = r.config;
  const scen = r.scenarios;
  const row = (label: string, f: (s: ScenarioResult) => string, target = '') => [label, ...scen.map(f), target];
  const t = r.targets;
  const rows: string[][] = [
    ['', ...scen.map(scenarioLabel), 'target'],
    row(`throughput, median of ${c.throughputRepeat}`, (s) => `${num(s.throughput.questionsPerSec)} q/s`, `>= ${num(t.throughputQps)} q/s`),
    row('  every run', (s) => s.throughputRuns.map((x) => num(x.questionsPerSec)).join(', ')),
    row('  answered / asked (median run)', (s) => `${num(s.throughput.answered)} / ${num(s.throughput.n)}${s.throughput.timedOut ? ' (timed out)' : ''}`),
    row('  inserts / last answer done after', (s) => `${s.throughput.insertSec} / ${s.throughput.totalSec} s`),
    row('  CPU per question (producer + consumer + Redis)', (s) => (cpuPerQuestionUs(s) === null ? '-' : `${num(cpuPerQuestionUs(s))} µs`)),
    row('  CPU of the machine, % of one core', (s) => percent(s.throughput.cpu.machine?.percentOfOneCore ?? null), input.environment ? `of ${input.environment.machine.cores * 100}%` : ''),
    row('  of it, producer + consumer + Redis / the bench', (s) => {
      const c = s.throughput.cpu;
      const ours = ['producer', 'consumer', 'redis'].reduce((sum, k) => sum + (c[k]?.percentOfOneCore ?? 0), 0);
      return `${num(ours)}% / ${percent(c.bench?.percentOfOneCore ?? null)}`;
    }),
    row('  of it, other work on the machine', (s) => percent(otherCpu(s.throughput.cpu))),
    row('pickup latency p50 / p99', (s) => p50p99(s.latency.pickupMs), `p50 < ${t.pickupP50Ms} ms`),
    row('  p90 / max', (s) => (s.latency.pickupMs ? `${num(s.latency.pickupMs.p90, 1)} / ${num(s.latency.pickupMs.max, 1)} ms` : '-')),
    row('  commit -> job added p50 / p99', (s) => p50p99(s.latency.insertToEnqueuedMs)),
    row('  job added -> active p50 / p99', (s) => p50p99(s.latency.enqueuedToActiveMs)),
    row('  commit -> answer row p50 / p99', (s) => p50p99(s.latency.insertToAnswerMs)),
    row('producer ready after (start-up)', (s) => `${s.producerReadySec} s`),
    row('every question answered once', (s) => {
      const k = s.check;
      const once = k.responseRows === k.asked && k.distinctQueryIds === k.asked && k.answeredTwice === 0;
      return `${once ? 'yes' : '**no**'}: ${num(k.responseRows)} answers, ${num(k.distinctQueryIds)} distinct, ${num(k.asked)} asked`;
    }),
  ];
  if (r.oldVsEmpty) {
    const o = r.oldVsEmpty;
    rows.push(['old vs empty (> 1 is worse)', '', `time per question ${o.throughputSlowdown}x, pickup p50 ${o.pickupP50Factor ?? '-'}x, p99 ${o.pickupP99Factor ?? '-'}x`, `within ${t.oldMessagesFactor}x`]);
  }
  return rows;
}
