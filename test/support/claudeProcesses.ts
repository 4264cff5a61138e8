import { processStat, processTable, type ProcStat } from './procStat.js';

/** Whether a process is a Claude Code session `parent` started (a consumer's sessions: each leads a process group of its own). */
export function isClaudeChildOf(p: ProcStat, parent: number): boolean {
  return p.comm === 'claude' && p.ppid === parent;
}

/** Pids of the Claude Code processes `parent` started. */
export function claudeChildren(parent: number): number[] {
  return [...processTable().values()].filter((p) => isClaudeChildOf(p, parent)).map((p) => p.pid);
}

/** Whether a process is still there (a zombie counts as gone: it holds nothing and runs nothing). */
export function alive(pid: number): boolean {
  const stat = processStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}
