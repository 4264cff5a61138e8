/** The scale-out benchmark in bench/REPORT.md: its summary rows and its section. */
import type { ScalePhase, ScaleResult } from '../../scale.js';
import type { ReportInput } from '../markdown.js';
import { chart, logNote, mdTable, otherCpu, percent, verdict } from './format.js';

/** Every question answered exactly once, every job run once, none failed. */
function answeredOnce(p: ScalePhase): boolean {
  const c = p.check;
  return c.responseRows === p.asked && c.distinctQueryIds === p.asked && c.answeredTwice === 0 && p.jobs.failed === 0 && p.jobs.startedMoreThanOnce === 0;
}

function largestEfficiency(r: ScaleResult): { consumers: number; efficiency: number } | null {
  return r.efficiency.length ? r.efficiency.reduce((a, b) => (b.consumers > a.consumers ? b : a)) : null;
}

export function scaleSummary(r: ScaleResult): string[][] {
  const e = largestEfficiency(r);
  const p = r.phases.find((x) => x.consumers === e?.consumers);
  if (!e || !p) return [];
  return [
    [
      `scale-out efficiency at ${e.consumers} consumers`,
      `${e.efficiency.toFixed(2)} (${p.questionsPerSec.toFixed(2)} of ${p.idealQps} q/s ideal)`,
      `>= ${r.targets.efficiency}`,
      verdict(e.efficiency >= r.targets.efficiency),
    ],
    ['every question answered exactly once (scale-out)', r.phases.every(answeredOnce) ? 'yes' : '**no**', 'yes', verdict(r.phases.every(answeredOnce))],
  ];
}

export function scaleSection(input: ReportInput, r: ScaleResult): string[] {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `One producer, a private \`redis-server\`, and per phase N \`consumer --answerer stub --stub-latency-ms ${c.stubLatencyMs} --sessions ${c.sessionsPerConsumer}\` processes; ` +
      `the bridge is kept topped up so the queue never runs dry; answers counted in a ${c.windowSec} s window after a ${c.warmupSec} s warm-up. ` +
      `Ideal = sessions x 1000 / ${c.stubLatencyMs} q/s; efficiency = throughput / (consumers x one consumer's throughput); ` +
      `min waiting: fewest questions waiting in Redis in the window (0 = ran dry); CPU other work: what processes other than the benchmark's used in the window, % of one core. Method: [README.md#scale](README.md#scale).`,
    '',
  );
  const rows: string[][] = [['consumers', 'sessions', 'throughput', 'ideal', 'of ideal', 'efficiency', 'answered per consumer (window)', 'min waiting', 'CPU other work', 'answered once']];
  for (const [i, p] of r.phases.entries()) {
    rows.push([
      String(p.consumers),
      String(p.sessionsTotal),
      `${p.questionsPerSec.toFixed(2)} q/s`,
      `${p.idealQps} q/s`,
      `${Math.round((p.questionsPerSec / p.idealQps) * 100)}%`,
      r.efficiency[i]?.efficiency.toFixed(2) ?? '-',
      Object.entries(p.perConsumer).map(([name, n]) => `${name} ${n.window}`).join(', '),
      String(p.queue.minWaiting),
      percent(otherCpu(p.cpu)),
      `${answeredOnce(p) ? 'yes' : '**no**'} (${p.check.responseRows}/${p.asked})`,
    ]);
  }
  out.push(mdTable(rows), '');
  const e = largestEfficiency(r);
  if (e) out.push(`Efficiency at ${e.consumers} consumers: ${e.efficiency.toFixed(2)} (target >= ${r.targets.efficiency}, ${verdict(e.efficiency >= r.targets.efficiency)}).`, '');
  for (const p of r.phases) {
    const note = logNote(`the ${p.consumers}-consumer phase`, `${p.logLines.warnings} / ${p.logLines.errors}`, p.logLines.warnings + p.logLines.errors, p.logLines.first);
    if (note) out.push(note, '');
  }
  out.push(...chart(input, 'scale', 'scale-out throughput, measured vs ideal'));
  return out;
}
