/**
 * Claude Code processes of the bench: one run to its exit (the baseline's `claude -p`, the
 * version probe), and finding the ones still running at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync, realpathSync } from 'node:fs';
import { killGroup } from '../../src/consumer/claude/processTree.js';
import { REPO } from '../../test/support/bridge.js';
import { hasSetpriv } from '../../test/support/cli.js';
import { parentPid } from '../../test/support/procStat.js';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs one process to its exit, in its own group (and under setpriv --pdeathsig, so it goes if
 * the bench is killed); the group is killed when it outlives `timeoutMs`.
 */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number, onSpawn: (child: ChildProcess) => void): Promise<ProcessResult> {
  const [cmd, ...argv] = hasSetpriv() ? ['setpriv', '--pdeathsig', 'SIGTERM', '--', command, ...args] : [command, ...args];
  return new Promise((resolve) => {
    const child = spawn(cmd!, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    onSpawn(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(-4000)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: `spawn error: ${err.message}`, timedOut });
    });
    // 'close', not 'exit': the output is complete then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

export async function claudeVersion(executable: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const r = await runProcess(executable, ['--version'], env, REPO, 30_000, () => undefined);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** Processes the bench started that still run the Claude Code binary and are still its children. */
export function leftovers(started: Set<number>, executable: string): number[] {
  let real = executable;
  try {
    real = realpathSync(executable);
  } catch {
    // keep the path as given
  }
  return [...started].filter((pid) => {
    if (parentPid(pid) !== process.pid) return false;
    try {
      return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') === real;
    } catch {
      return false;
    }
  });
}
