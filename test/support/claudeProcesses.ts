import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the Claude Code processes `parent` started (a consumer's sessions: each leads a process group of its own). */
export function claudeChildren(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'))!;
      // rest: state, ppid, ...
      if (comm === 'claude' && Number(rest!.split(' ')[1]) === parent) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whether a process is still there (a zombie counts as gone: it holds nothing and runs nothing). */
export function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}
