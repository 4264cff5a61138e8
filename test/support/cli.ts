import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO } from './bridge.js';
import { waitFor } from './wait.js';

export const CLI = resolve(REPO, 'dist/cli/main.js');

/** A spawned `autopoll` command (the built CLI), with its pino lines kept for the test to read. */
export class AutopollProcess {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `launcher` runs the CLI through another command that execs it, e.g. `ip netns exec NS`. */
  constructor(args: string[], env: Record<string, string | undefined> = {}, launcher: string[] = []) {
    const [command, ...argv] = [...launcher, process.execPath, CLI, ...args];
    this.child = spawn(command!, argv, {
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
export function runAutopoll(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
