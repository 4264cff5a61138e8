/** The soak (of `npm run test:chaos`) in bench/REPORT.md, from bench/results/soak.json: its summary rows and its section. */
import { num, soakPhaseLabel } from '../labels.js';
import type { ReportInput } from '../markdown.js';
import { readSoak, type SoakGrowth, type SoakPhase } from '../soak.js';
import { chart, mdTable, ms, verdict, when } from './format.js';

/** What the report says where the soak's results are absent. */
export const SOAK_ABSENT = 'not measured in this run: run `npm run test:chaos` (soak)';

/** Growth in percent; `infinite` (from 0 to more) is Infinity; null when not judged (too few samples). */
const growthValue = (g: SoakGrowth) => (typeof g.growthPercent === 'string' ? Infinity : g.growthPercent);
/** Whether a judged growth figure is above the limit (a fraction); null when either is unknown; false when not judged. */
const grewTooMuch = (g: SoakGrowth, limit: number | null) => (!g.judged ? false : growthValue(g) === null || limit === null ? null : growthValue(g)! > limit * 100);
const growthText = (g: SoakGrowth) => (g.growthPercent === null ? 'not judged (too few samples)' : typeof g.growthPercent === 'string' ? g.growthPercent : `${g.growthPercent > 0 ? '+' : ''}${num(g.growthPercent, 1)}%`);

export function soakSummary(raw: unknown): string[][] {
  const s = raw === null || raw === undefined ? null : readSoak(raw);
  if (!s || s.phases.length === 0) return [['resource use per question (soak)', SOAK_ABSENT, '', '']];
  const rows = s.phases.map((p) => [
    `resource use per question, soak (${soakPhaseLabel(p)})`,
    `CPU ${num(p.cpuMs.total, 3)} ms, ${num(p.redisCommands, 2)} Redis commands, ${num(p.sqliteCommits, 4)} SQLite commits (${num(p.sqliteRowsWritten, 3)} rows written)`,
    '',
    '',
  ]);
  const judged = s.phases.flatMap((p) => p.growth.filter((g) => g.judged).map((g) => ({ p, g, over: grewTooMuch(g, p.growthLimit) })));
  if (judged.length) {
    const worst = judged.filter((j) => growthValue(j.g) !== null).sort((a, b) => growthValue(b.g)! - growthValue(a.g)!)[0];
    const limits = [...new Set(s.phases.map((p) => p.growthLimit).filter((l) => l !== null))].map((l) => `<= ${num(l! * 100)}%`).join(', ');
    rows.push([
      'resource growth after warm-up (soak: RSS, descriptors, processes)',
      worst ? `largest: ${worst.g.metric} ${growthText(worst.g)} (${soakPhaseLabel(worst.p)})` : 'not judged (too few samples)',
      limits,
      worst ? `${verdict(!judged.some((j) => j.over))}${judged.some((j) => j.over === null) ? ` (${judged.filter((j) => j.over === null).length} not judged)` : ''}` : '',
    ]);
  }
  return rows;
}

export function soakSection(input: ReportInput): string[] {
  const out = ['## Resource use per question (soak)', ''];
  const s = input.soak === null || input.soak === undefined ? null : readSoak(input.soak);
  if (!s || s.phases.length === 0) return [...out, `${SOAK_ABSENT}; it writes \`bench/results/soak.json\`, then \`npm run bench:report\` adds it here.`, ''];
  const phases = s.phases;
  out.push(
    `From \`bench/results/soak.json\` (${when(s.date)}), written by the soak of \`npm run test:chaos\` (test/chaos/soak.chaos.test.ts): a long steady run through real processes, ` +
      'each phase on its own redis-server and bridge file. CPU: utime + stime of the producer, the consumer, its Claude Code sessions and redis-server; ' +
      'Redis commands: `total_commands_processed` (with the commands BullMQ\'s Lua scripts run); SQLite commits: the WAL-index change counter, less the test\'s own inserts.',
    '',
  );
  const row = (label: string, f: (p: SoakPhase) => string) => [label, ...phases.map(f)];
  const byProcess = (m: Record<string, number>) => Object.entries(m).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${num(v, 3)}`).join(', ') || '-';
  out.push(
    mdTable([
      ['per question', ...phases.map(soakPhaseLabel)],
      row('questions, duration', (p) => `${num(p.questions)} in ${num(p.durationSec, 1)} s (${num(p.questionsPerSec, 1)} q/s)`),
      row('CPU, total', (p) => ms(p.cpuMs.total, 3)),
      row('  by process', (p) => byProcess(p.cpuMs)),
      row('  after warm-up, total', (p) => ms(p.cpuMsAfterWarmup.total, 3)),
      row('Redis commands', (p) => `${num(p.redisCommands, 2)}${p.redisScriptCalls !== null ? ` (${num(p.redisScriptCalls, 2)} Lua script calls)` : ''}`),
      row('SQLite commits', (p) => num(p.sqliteCommits, 4)),
      row('SQLite rows written', (p) => num(p.sqliteRowsWritten, 3)),
      row('answered exactly once', (p) => (p.check ? `${p.check.notOnce === 0 && p.check.asked === p.check.responseRows ? 'yes' : '**no**'} (${num(p.check.responseRows)} answers, ${num(p.check.asked)} asked)` : '-')),
    ]),
    '',
    ...chart(input, 'soak-cpu', 'CPU per question by process, soak'),
  );
  const growth = phases.flatMap((p) => p.growth.map((g) => ({ p, g })));
  if (growth.length === 0) return [...out, 'The soak recorded no resource-growth figures.', ''];
  const statistic = phases.find((p) => p.growthStatistic)?.growthStatistic;
  const judgedMemory = phases.find((p) => p.judgedMemory)?.judgedMemory;
  out.push(
    `Resource growth after warm-up${statistic ? ` (${statistic})` : ''}:`,
    '',
    mdTable([
      ['phase', 'metric', 'first', 'last', 'growth', 'limit'],
      ...growth.map(({ p, g }) => {
        const over = grewTooMuch(g, p.growthLimit);
        const limit = !g.judged ? 'shown, not judged' : p.growthLimit === null ? '-' : `<= ${num(p.growthLimit * 100)}%`;
        return [soakPhaseLabel(p), g.metric, num(g.first), num(g.last), `${growthText(g)}${over ? ' **over**' : ''}`, limit];
      }),
    ]),
    '',
    ...(judgedMemory ? [`Memory judged: ${judgedMemory}.`, ''] : []),
  );
  return out;
}
