/** The Claude benchmark in bench/REPORT.md: its summary rows and its section. */
import type { ClaudeResult, PhaseResult } from '../../claude.js';
import { num } from '../labels.js';
import type { ReportInput } from '../markdown.js';
import { chart, claudeVersion, logNote, mdTable, ms, otherCpu, p50p99, percent, verdict } from './format.js';

export const phaseName = (p: PhaseResult) => (p.sessions === null ? 'one `claude -p` per question' : `pool, ${p.sessions} session${p.sessions === 1 ? '' : 's'}`);
const claudeOk = (p: PhaseResult) => p.target !== null && (p.speedup ?? 0) >= p.target;

export function claudeSummary(r: ClaudeResult): string[][] {
  return r.phases.map((p) => [
    `seconds per question through Claude Code, ${phaseName(p)}`,
    `${num(p.secPerQuestion, 4)} s${p.speedup ? ` (${p.speedup}x)` : ''}`,
    p.target ? `>= ${p.target}x the baseline` : p.sessions === null ? 'baseline' : '',
    p.target ? verdict(claudeOk(p)) : '',
  ]);
}

export function claudeSection(input: ReportInput, r: ClaudeResult): string[] {
  const out: string[] = [];
  out.push(
    `The real Claude Code binary (${claudeVersion(r.binary.version) ?? 'version unknown'}) against a fake Anthropic API on loopback with no latency, so what is measured is Claude Code's own cost per question; ` +
      `model \`${r.config.model}\`, the same prompt and system prompt for every process. Baseline: one \`claude -p\` process per question, serially. ` +
      `Pool: \`ClaudeAnswerer\`, as many questions in flight as sessions, a session recycled every ${r.config.maxTurnsPerSession} turns; its start is not timed. ` +
      `Seconds per question = wall time / questions done. Method: [README.md#claude](README.md#claude).`,
    '',
  );
  const phases = r.phases;
  const row = (label: string, f: (p: PhaseResult) => string) => [label, ...phases.map(f)];
  const rows: string[][] = [
    ['', ...phases.map(phaseName)],
    row('seconds per question', (p) => `${num(p.secPerQuestion, 4)} s`),
    row('speed-up over the baseline', (p) => (p.sessions === null ? '1x' : `${p.speedup ?? '-'}x`)),
    row('target', (p) => (p.target ? `>= ${p.target}x: ${verdict(claudeOk(p))}` : '')),
    row('questions done / planned', (p) => `${p.done} / ${p.planned}${p.stoppedBy ? ` (stopped by its ${p.stoppedBy})` : ''}`),
    row('answered right / failed', (p) => `${p.answered} / ${p.failed}`),
    row('per question p50 / p99', (p) => p50p99(p.questionMs)),
    row('Claude Code CPU per question', (p) => ms(p.cpu.claudeMsPerQuestion)),
    row('machine CPU per question', (p) => ms(p.cpu.machineMsPerQuestion)),
    row('CPU of other work on the machine, % of one core', (p) => percent(otherCpu({ machine: p.cpu.machine, claude: p.cpu.claude, bench: p.cpu.bench }))),
    row('API requests per question', (p) => num(p.api.messagesPerQuestion, 2)),
  ];
  out.push(mdTable(rows), '');
  for (const p of phases) {
    const note = logNote(`the ${phaseName(p)} phase`, `${p.logWarnings} / ${p.logErrors}`, p.logWarnings + p.logErrors, p.notable);
    if (note) out.push(note, '');
  }
  if (r.leftoverProcesses) out.push(`${r.leftoverProcesses} Claude Code process(es) were still running at the end (killed).`, '');
  out.push(...chart(input, 'claude', 'seconds per question, baseline vs pool'));
  return out;
}
