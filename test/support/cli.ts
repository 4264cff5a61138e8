import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { shellWord } from '../../src/cli/upBanner.js';
import { REPO, tempDir } from './bridge.js';
import { waitFor } from './wait.js';

/**
 * A process's working folder when the test names none: its own, removed after the file. In the
 * repository it would leave the default context root (data/context) behind, and two `up`s there
 * would share one private Redis folder.
 */
const ownFolder = () => tempDir('autopoll-cwd-');

export const CLI = resolve(REPO, 'dist/cli/main.js');

/** A spawned `autopoll` command (the built CLI), with its pino lines kept for the test to read. */
export class AutopollProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `launcher` runs the CLI through another command that execs it, e.g. `ip netns exec NS`. */
  constructor(args: string[], env: Record<string, string | undefined> = {}, launcher: string[] = [], cwd?: string) {
    const [command, ...argv] = [...launcher, process.execPath, CLI, ...args];
    this.child = spawn(command!, argv, {
      cwd: cwd ?? ownFolder(),
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  hasLog(pattern: RegExp): boolean {
    return this.lines.some((l) => pattern.test(String(l.msg)));
  }

  async waitForLog(pattern: RegExp, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return waitFor(`log ${pattern}`, () => this.lines.find((l) => pattern.test(String(l.msg))), timeoutMs);
  }

  /** The operator server's base URL, as it logged it (port 0: a free one), always over 127.0.0.1. */
  async operatorUrl(): Promise<string> {
    const line = await this.waitForLog(/^operator server listening$/);
    return `http://127.0.0.1:${new URL(String(line.url)).port}`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Runs an `autopoll` command to its end: its exit code and its whole output. */
export function runAutopoll(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: cwd ?? ownFolder(), env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * An `autopoll` command on a terminal, as a person runs it: `script` (util-linux) gives it a pty
 * of its own, so its stdout is a TTY. `screen` is what the terminal shows (colours and CR kept).
 */
export class TerminalAutopoll {
  readonly child: ChildProcess;
  screen = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string | undefined> = {}, cwd?: string) {
    // exec: script runs the command through $SHELL -c, and dash (CI's /bin/sh) would otherwise stay
    // as its parent in the terminal's process group, die of the Ctrl-C itself and make script exit 130.
    const command = `exec ${[process.execPath, CLI, ...args].map(shellWord).join(' ')}`;
    // -e: script exits with the command's code; stdin stays open (a pipe) so script does not end at its EOF.
    this.child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: cwd ?? ownFolder(), env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.screen += chunk.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  /** The screen's lines, colours removed. */
  get lines(): string[] {
    // eslint-disable-next-line no-control-regex
    return this.screen.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  }

  async waitForLine(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(`terminal line ${pattern}`, () => this.lines.find((l) => pattern.test(l)), timeoutMs);
  }

  /** Ctrl-C, typed on the terminal: the terminal sends SIGINT to the command. */
  interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin!.write('\x03');
    return this.exited;
  }

  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    // script's exit closes the pty, and the kernel hangs the command up.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }
}
