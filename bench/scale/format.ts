/** The scale-out benchmark's printed report: a row per phase, the method in short, the verdicts, notes. */
import { availableParallelism } from 'node:os';
import type { ScalePhase, ScaleResult } from '../scale.js';
import { round } from '../../test/support/numbers.js';
import { table } from '../numbers.js';

/** Every question answered exactly once, each job run once, nothing failed. */
function allOnce(p: ScalePhase): boolean {
  const c = p.check;
  return c.responseRows === p.asked && c.distinctQueryIds === p.asked && c.answeredTwice === 0 && c.unreadForB === 0
    && (c.ledger.answered ?? 0) === p.asked && p.jobs.completed === p.asked && p.jobs.failed === 0 && p.jobs.startedMoreThanOnce === 0;
}

/** CPU of the producer, the consumers and redis-server over the window, percent of one core. */
function ours(p: ScalePhase): string {
  const mine = Object.entries(p.cpu).filter(([who, use]) => who !== 'machine' && who !== 'bench' && use);
  return mine.length ? `${mine.reduce((s, [, use]) => s + use!.percentOfOneCore, 0)}%` : '-';
}

export function formatScale(result: ScaleResult): string {
  if (result.phases.length === 0) return '(no results)';
  const rows: string[][] = [[
    'consumers', 'sessions', 'throughput q/s', 'ideal q/s', 'of ideal', 'efficiency', 'answered per consumer (window)', 'min waiting', 'cpu ours / machine', 'answered once',
  ]];
  for (const [i, p] of result.phases.entries()) {
    rows.push([
      String(p.consumers),
      String(p.sessionsTotal),
      p.questionsPerSec.toFixed(2),
      String(p.idealQps),
      `${Math.round((p.questionsPerSec / p.idealQps) * 100)}%`,
      result.efficiency[i]?.efficiency.toFixed(2) ?? '-',
      Object.entries(p.perConsumer).map(([name, c]) => `${name} ${c.window}`).join(', '),
      String(p.queue.minWaiting),
      `${ours(p)} / ${p.cpu.machine ? `${p.cpu.machine.percentOfOneCore}%` : '-'}`,
      `${p.check.responseRows}/${p.asked}${allOnce(p) ? '' : ' (NOT ONCE)'}`,
    ]);
  }
  const c = result.config;
  const t = result.targets;
  const meets = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const largest = result.efficiency.reduce((a, b) => (b.consumers > a.consumers ? b : a));
  const smallest = result.phases.reduce((a, b) => (b.consumers < a.consumers ? b : a));
  const notes = [
    `window ${c.windowSec} s per phase after a ${c.warmupSec} s warm-up; stub answerer ${c.stubLatencyMs} ms, ${c.sessionsPerConsumer} sessions per consumer; ideal = sessions x ${round(1000 / c.stubLatencyMs, 2)}/s;`,
    `efficiency = throughput / (consumers x ${round(smallest.questionsPerSec / smallest.consumers, 2)} q/s, one consumer's throughput); min waiting: fewest questions waiting in Redis in the window (0 = ran dry);`,
    `cpu: in the window, percent of one core (of ${availableParallelism() * 100}%); ours = producer + consumers + redis-server, machine = every process on it.`,
  ];
  const verdicts = [
    `efficiency at ${largest.consumers} consumers: ${meets(largest.efficiency >= t.efficiency)} (${largest.efficiency} vs >= ${t.efficiency})`,
    `every question answered exactly once: ${meets(result.phases.every(allOnce))} (${result.phases.map((p) => `${p.check.responseRows} rows, ${p.check.distinctQueryIds} distinct of ${p.asked} asked`).join('; ')})`,
    `queue never ran dry in a window: ${meets(result.phases.every((p) => p.queue.minWaiting > 0))}`,
  ];
  const warnings = result.phases
    .filter((p) => p.logLines.warnings + p.logLines.errors > 0)
    .map((p) => `${p.consumers} consumer(s): log lines at warn/error ${p.logLines.warnings}/${p.logLines.errors}; first: ${p.logLines.first.join(' | ')}`);
  return [table(rows), '', ...notes.map((n) => `  ${n}`), ...verdicts.map((v) => `  ${v}`), ...warnings.map((w) => `  note: ${w}`)].join('\n');
}
