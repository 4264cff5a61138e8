/** The Claude benchmark's printed report: a table of the phases side by side, the verdicts, notes. */
import { availableParallelism } from 'node:os';
import type { ClaudeResult, PhaseResult } from '../claude.js';
import type { CpuFigure } from '../cpuMeter.js';
import { round } from '../../test/support/numbers.js';
import { table } from '../numbers.js';

export function formatClaude(result: ClaudeResult): string {
  const [base, ...pools] = result.phases;
  if (!base) return '(no results)';
  const phases = [base, ...pools];
  return [table(rows(phases, pools)), '', ...verdicts(pools).map((v) => `  ${v}`), ...notes(result, phases).map((n) => `  note: ${n}`)].join('\n');
}

const plural = (sessions: number | null) => `${sessions} session${sessions === 1 ? '' : 's'}`;
const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
const cpu = (c: CpuFigure | null) => (c ? `${c.percentOfOneCore}% (${c.cpuSec} s)` : '-');

/** The baseline's and each pool's column, with the target beside them. */
function rows(phases: PhaseResult[], pools: PhaseResult[]): string[][] {
  const rows: string[][] = [['', 'baseline: claude -p each', ...pools.map((p) => plural(p.sessions)), 'target']];
  const targets = pools.map((p) => (p.target ? `${p.sessions}: >= ${p.target}x` : '')).filter(Boolean).join('; ');
  rows.push(['seconds per question', ...phases.map((p) => cell(p.secPerQuestion)), '']);
  rows.push(['speed-up vs baseline', '1x', ...pools.map((p) => cell(p.speedup, 'x')), targets]);
  rows.push(['questions done / planned', ...phases.map((p) => `${p.done}/${p.planned}${p.stoppedBy ? ` (${p.stoppedBy})` : ''}`), '']);
  rows.push(['  answered right / failed', ...phases.map((p) => `${p.answered} / ${p.failed}`), 'all / 0']);
  rows.push(['  wall time (s)', ...phases.map((p) => cell(p.totalSec)), '']);
  rows.push(['  per question ms p50 / p99', ...phases.map((p) => (p.questionMs ? `${p.questionMs.p50} / ${p.questionMs.p99}` : '-')), '']);
  rows.push(['API messages requests', ...phases.map((p) => `${p.api.messages} (${cell(p.api.messagesPerQuestion)}/q)`), '']);
  rows.push(['  all requests / with >1 question', ...phases.map((p) => `${p.api.all} / ${p.api.withSeveralQuestions}`), '- / 0']);
  rows.push(['cpu machine', ...phases.map((p) => cpu(p.cpu.machine)), `of ${availableParallelism() * 100}%`]);
  rows.push(['  cpu claude processes', ...phases.map((p) => cpu(p.cpu.claude)), '']);
  rows.push(['  cpu bench (fake API, driver)', ...phases.map((p) => cpu(p.cpu.bench)), '']);
  rows.push(['  claude cpu per question (ms)', ...phases.map((p) => cell(p.cpu.claudeMsPerQuestion)), '']);
  rows.push(['  machine cpu per question (ms)', ...phases.map((p) => cell(p.cpu.machineMsPerQuestion)), '']);
  // What the phase would take if Claude Code's CPU were the only limit and every core were its.
  const floor = (p: PhaseResult) => (p.cpu.claudeMsPerQuestion === null ? '-' : `${round(p.cpu.claudeMsPerQuestion / 1000 / Math.min(availableParallelism(), p.sessions ?? 1), 4)}`);
  rows.push(['  cpu-bound floor, s/question', ...phases.map(floor), 'claude cpu/q / min(cores, sessions)']);
  rows.push(['pool start, not timed (s)', '-', ...pools.map((p) => cell(p.startSec)), '']);
  rows.push(['  sessions launched meanwhile', '-', ...pools.map((p) => `${p.sessionsLaunched ?? '-'}${p.sessionsReplaced && Object.keys(p.sessionsReplaced).length ? ` (${Object.entries(p.sessionsReplaced).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`), '']);
  rows.push(['  pool close (s)', '-', ...pools.map((p) => cell(p.closeSec)), '']);
  return rows;
}

/** Each pool's speed-up against its target. */
function verdicts(pools: PhaseResult[]): string[] {
  const verdicts: string[] = [];
  for (const p of pools) {
    if (!p.target) continue;
    const ok = (p.speedup ?? 0) >= p.target;
    verdicts.push(`${plural(p.sessions)}: speed-up ${ok ? 'met' : 'MISSED'} (${p.speedup ?? '-'}x vs >= ${p.target}x${ok || !p.speedup ? '' : `: ${round((p.speedup / p.target) * 100, 0)}% of the target`})`);
  }
  return verdicts;
}

/** Failures, the pool's warn/error log lines, and Claude Code processes left running. */
function notes(result: ClaudeResult, phases: PhaseResult[]): string[] {
  const notes: string[] = [];
  for (const p of phases) {
    if (p.failures.length) notes.push(`${p.phase}: ${p.failed} failed; first: ${p.failures.join(' | ')}`);
    if (p.logWarnings + p.logErrors > 0) notes.push(`${p.phase}: pool log lines at warn/error ${p.logWarnings}/${p.logErrors}; first: ${p.notable.join(' | ')}`);
  }
  if (result.leftoverProcesses) notes.push(`${result.leftoverProcesses} Claude Code process(es) were still running at the end (killed)`);
  return notes;
}
