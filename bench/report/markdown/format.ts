/** The words and cells every section of bench/REPORT.md writes its figures with. */
import { type Distribution } from '../../numbers.js';
import type { ChartName } from '../charts.js';
import { num } from '../labels.js';
import type { ReportInput } from '../markdown.js';

export const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

export function mdTable(rows: string[][]): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  return [line(rows[0]!), `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export const chart = (input: ReportInput, name: ChartName, alt: string) => (input.charts[name] ? [`![${alt}](${input.charts[name]})`, ''] : []);

/** `2026-11-22 05:51 UTC` from an ISO time. */
export function when(iso: string | undefined | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `2.1.330` from `claude --version`'s `2.1.330 (Claude Code)`. */
export const claudeVersion = (v: string | null | undefined) => v?.replace(/\s*\(Claude Code\)$/, '') ?? null;
export const ms = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '-' : `${num(v, digits)} ms`);
export const p50p99 = (d: Distribution | null | undefined) => (d ? `${num(d.p50, 1)} / ${num(d.p99, 1)} ms` : '-');

/**
 * CPU of everything else on the machine over a measurement, % of one core: the machine's less the
 * processes measured (the bench's own included). Other work running meanwhile shows here, and the
 * figures measured beside it are lower than a quiet machine's.
 */
export function otherCpu(cpu: Record<string, { percentOfOneCore: number } | null>): number | null {
  const machine = cpu.machine?.percentOfOneCore;
  if (machine === undefined) return null;
  const ours = Object.entries(cpu).filter(([who]) => who !== 'machine').reduce((sum, [, use]) => sum + (use?.percentOfOneCore ?? 0), 0);
  return Math.max(0, machine - ours);
}

/** A sentence on a run's log lines at warn or error, with their distinct first messages; null when there were none. */
export function logNote(what: string, counts: string, total: number, first: string[]): string | null {
  if (total === 0) return null;
  const messages = [...new Set(first)].map((m) => `\`${m}\``).join(', ');
  return `Log lines at warn / error during ${what}: ${counts}${messages ? `; first: ${messages}` : ''}.`;
}

export const percent = (v: number | null) => (v === null ? '-' : `${num(v)}%`);
