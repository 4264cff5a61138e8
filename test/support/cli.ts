import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellWord } from '../../src/cli/upBanner.js';
import { REPO, tempDir } from './bridge.js';
import type { ProcessMarker } from './leftovers.js';
import { waitFor } from './wait.js';

/**
 * A process's working folder when the test names none: its own, removed after the file. In the
 * repository it would leave the default context root (data/context) behind, and two `up`s there
 * would share one private Redis folder.
 */
const ownFolder = () => tempDir('autopoll-cwd-');

export const CLI = resolve(REPO, 'dist/cli/main.js');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface SpawnOptions {
  /** Names the process in errors (default: its first argument). */
  name?: string;
  /** A command that execs the CLI, e.g. `ip netns exec NS`. */
  launcher?: string[];
  /** Node flags before the CLI, e.g. --cpu-prof, --trace-gc. */
  nodeArgs?: string[];
  cwd?: string;
  /** SIGTERM to it should this process die without stopping it (setpriv --pdeathsig, where it works). */
  dieWithParent?: boolean;
  /**
   * Keep every log line in `lines` (default). A long run at info would hold one line per job in
   * memory; the counters (`warnings`, `errors`, `notable`, `logged`) are kept either way.
   */
  keepLines?: boolean;
  /** Offered each stdout line that is not JSON; one it takes (returns true) is not kept (--trace-gc's lines). */
  takePlainLine?: (line: string) => boolean;
}

/** How many of the last output lines a process keeps for the error that says it exited. */
const TAIL_LINES = 40;

/** A spawned `autopoll` command (the built CLI), with its pino lines kept for the test to read. */
export class AutopollProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  /** Log lines at warn (40) and at error (50) or above. */
  warnings = 0;
  errors = 0;
  /** The first few warn/error messages, for a report. */
  readonly notable: string[] = [];
  /** How many log lines carried each message (`msg`), e.g. 'consumer started'. */
  readonly logged = new Map<string, number>();
  private readonly tail: string[] = [];

  constructor(args: string[], env: Record<string, string | undefined> = {}, private readonly options: SpawnOptions = {}) {
    this.name = options.name ?? args[0] ?? 'autopoll';
    const cli = [...(options.launcher ?? []), process.execPath, ...(options.nodeArgs ?? []), CLI, ...args];
    const [command, ...argv] = options.dieWithParent && hasSetpriv() ? ['setpriv', '--pdeathsig', 'SIGTERM', '--', ...cli] : cli;
    this.child = spawn(command!, argv, {
      cwd: options.cwd ?? ownFolder(),
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
    this.child.once('error', (err) => this.keepTail(`spawn error: ${err.message}`));
    this.child.stdout!.on('data', splitLines((line) => this.onLine(line)));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr += text;
      for (const line of text.split('\n')) if (line) this.keepTail(line);
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The process frozen (SIGSTOP) while `fn` runs: it does nothing meanwhile, however slow the machine. */
  async frozen<T>(fn: () => Promise<T>): Promise<T> {
    process.kill(this.pid, 'SIGSTOP');
    try {
      return await fn();
    } finally {
      process.kill(this.pid, 'SIGCONT');
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process printed. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Throws with the process's last output when it has exited. */
  assertRunning(): void {
    if (!this.running) throw new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}); its last output:\n${this.output()}`);
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

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then the exit; SIGKILL when it has not exited within `timeoutMs` (reported as such). */
  async stop(timeoutMs = 15_000): Promise<Exit & { killedAfterTimeout: boolean }> {
    if (this.running) this.child.kill('SIGTERM');
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (exit) return { ...exit, killedAfterTimeout: false };
    process.stderr.write(`${this.name} (pid ${this.pid}) did not stop within ${timeoutMs} ms of SIGTERM; killing it\n`);
    this.child.kill('SIGKILL');
    return { ...(await this.exited), killedAfterTimeout: true };
  }

  private onLine(line: string): void {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
      this.count(entry, line);
    } catch {
      if (this.options.takePlainLine?.(line)) return;
      entry = { msg: line };
    }
    if (this.options.keepLines ?? true) this.lines.push(entry);
    if (line) this.keepTail(line);
  }

  private count(entry: Record<string, unknown>, line: string): void {
    const level = typeof entry.level === 'number' ? entry.level : 0;
    if (typeof entry.msg === 'string') this.logged.set(entry.msg, (this.logged.get(entry.msg) ?? 0) + 1);
    if (level >= 50) this.errors++;
    else if (level >= 40) this.warnings++;
    if (level >= 40 && this.notable.length < 5) this.notable.push(`${level >= 50 ? 'error' : 'warn'}: ${String(entry.msg ?? line)}${entry.reason ? ` (${String(entry.reason)})` : ''}`);
  }

  private keepTail(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }
}

/** A `data` listener that hands on whole lines (a chunk may end mid-line). */
function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) onLine(line);
  };
}

let setprivAvailable: boolean | undefined;

/** Whether `setpriv --pdeathsig` works here (util-linux). */
export function hasSetpriv(): boolean {
  if (setprivAvailable === undefined) {
    try {
      execFileSync('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'true'], { stdio: 'ignore' });
      setprivAvailable = true;
    } catch {
      setprivAvailable = false;
    }
  }
  return setprivAvailable;
}

/** pino levels 50 (error) and 60 (fatal) in a process's lines. */
export function errorLines(p: AutopollProcess): Array<Record<string, unknown>> {
  return p.lines.filter((l) => typeof l.level === 'number' && l.level >= 50);
}

/**
 * Stops the processes as an operator would (SIGTERM, SIGKILL after `graceMs`), then waits for
 * every process carrying the marker (Claude Code sessions included) to be gone.
 */
export async function stopAll(procs: AutopollProcess[], marker: ProcessMarker, graceMs = 20_000): Promise<Array<{ pid: number; command: string }>> {
  await Promise.all(procs.map((p) => p.stop(graceMs)));
  const deadline = Date.now() + 15_000;
  while (marker.alive().length > 0 && Date.now() < deadline) await sleep(200);
  return marker.kill();
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
