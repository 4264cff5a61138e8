/**
 * The Claude benchmark: the real Claude Code binary against a zero-latency fake Anthropic API
 * (test/support/fakeAnthropic.ts), so what is measured is Claude Code's own cost per question.
 *
 *   - baseline, the old shard's way: one `claude -p` process per question, serially, each waited
 *     for (spawn, boot, one API call, exit);
 *   - the persistent pool (ClaudeAnswerer, sessionMemory none) with 1 and with 4 sessions, as many
 *     answers in flight as sessions; the pool's start (warm) is not timed.
 *
 * Seconds per question = the phase's wall time / the questions it did; speed-up = baseline's
 * seconds per question / the pool's. Beside it: CPU of the machine, of the Claude Code processes
 * and of the bench (which also serves the fake API), and the API requests the fake saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ClaudeAnswerer } from '../src/consumer/ClaudeAnswerer.js';
import { buildPrompt, SHARD_SYSTEM_PROMPT } from '../src/consumer/claude/prompt.js';
import { SESSION_ENV_DEFAULTS } from '../src/consumer/claude/ClaudeSession.js';
import type { QuestionJob } from '../src/shared/jobs.js';
import type { Logger } from '../src/shared/logger.js';
import { tempDir } from '../test/support/bridge.js';
import { claudeEnv } from '../test/support/claudeEnv.js';
import { FakeAnthropic, type Responder } from '../test/support/fakeAnthropic.js';
import { REPO } from '../test/support/bridge.js';
import { hasSetpriv } from '../test/support/cli.js';
import { round } from '../test/support/numbers.js';
import { cpuSecondsWithChildren, machineCpuSeconds, parentPid } from '../test/support/procStat.js';
import { BENCH_TEMP_PREFIX, cleanup } from './cleanup.js';
import { distribution, table, type Distribution } from './numbers.js';

/** Speed-up over the baseline's seconds per question, by pool size. */
export const CLAUDE_TARGETS: Record<number, number> = { 1: 5, 4: 20 };

/** The Claude Code binary the SDK ships (the pool is given the same one). */
export const CLAUDE_BIN = join(REPO, 'node_modules/@anthropic-ai/claude-agent-sdk-linux-x64/claude');

export interface ClaudeConfig {
  /** Questions per pool phase, and the baseline's unless baselineN is lower. */
  n: number;
  baselineN: number;
  /** The baseline stops starting processes after this long (s/question is over those it did). */
  baselineBudgetSec: number;
  /** Pool sizes to measure, in order. */
  pools: number[];
  /** A pool phase stops handing out questions after this long. */
  poolBudgetSec: number;
  model: string;
  turnTimeoutSec: number;
  maxTurnsPerSession: number;
  maxContextTokens: number;
  executable: string;
}

export interface CpuFigure {
  cpuSec: number;
  /** Percent of one core over the phase's wall time. */
  percentOfOneCore: number;
}

export interface PhaseResult {
  phase: string;
  /** Pool size; null for the baseline. */
  sessions: number | null;
  /** Questions the phase was to answer. */
  planned: number;
  /** Questions it did (answered + failed); fewer than planned when its time budget ran out. */
  done: number;
  /** Answers that came back and name their own question (the fake echoes each question's query id). */
  answered: number;
  failed: number;
  failures: string[];
  stoppedBy: 'time budget' | null;
  totalSec: number;
  secPerQuestion: number | null;
  /** Baseline's seconds per question / this phase's. */
  speedup: number | null;
  target: number | null;
  /** Per question, ms: the process's spawn -> exit (baseline), answer() call -> return (pool). */
  questionMs: Distribution | null;
  /** Pool: start() (every session booted and warmed with a /clear), not part of totalSec. */
  startSec: number | null;
  closeSec: number | null;
  /** Sessions launched during the timed part (recycles after maxTurnsPerSession, restarts). */
  sessionsLaunched: number | null;
  sessionsReplaced: Record<string, number> | null;
  /** Requests the fake API saw during the timed part. */
  api: { messages: number; all: number; messagesPerQuestion: number | null; withSeveralQuestions: number };
  cpu: {
    /** Every process on the machine (other work running meanwhile included). */
    machine: CpuFigure | null;
    /** The Claude Code processes (live sessions and those that exited meanwhile). */
    claude: CpuFigure | null;
    /** The bench process itself: the fake API, the SDK's plumbing, the driver. */
    bench: CpuFigure | null;
    claudeMsPerQuestion: number | null;
    machineMsPerQuestion: number | null;
  };
  /** Pool: session processes that exited (recycled, closed or crashed), from its log. */
  sessionExits: number | null;
  /** The pool's other log lines at warn or above. */
  logWarnings: number;
  logErrors: number;
  notable: string[];
}

export interface ClaudeResult {
  benchmark: 'claude';
  targets: typeof CLAUDE_TARGETS;
  config: ClaudeConfig;
  binary: { path: string; version: string | null };
  phases: PhaseResult[];
  /** Claude Code processes the bench started that were still running at the end (should be 0). */
  leftoverProcesses: number;
}

/** A question job, the way the producer makes one. */
function question(i: number): QuestionJob {
  return {
    messageId: i + 1,
    conversationId: `bench-conv-${i % 4}`,
    queryId: `bq_${i}`,
    question: `Question ${i}: where is the retry policy for failed answers defined, and what backoff does it use?`,
  };
}

const QUERY_ID = /<question query_id="([^"]+)">/g;

/** Answers every request with the query id of the last question it carries, so answers can be checked. */
const echoQueryId: Responder = (req) => {
  const ids = [...req.lastUser.matchAll(QUERY_ID)].map((m) => m[1]);
  return { kind: 'text', text: `Answer to ${ids.at(-1) ?? 'nothing'}: see the retry module (notes.md:3-4).` };
};

function answersItsQuestion(text: string, queryId: string): boolean {
  return text.includes(`Answer to ${queryId}:`);
}

/** Thrown once the run is being stopped (Ctrl-C, watchdog): the phases stop starting work. */
class Stopped extends Error {}

export async function runClaudeBench(config: ClaudeConfig, log: (line: string) => void, stop?: AbortSignal): Promise<ClaudeResult> {
  const signal = stop ?? new AbortController().signal;
  if (!existsSync(config.executable)) throw new Error(`no Claude Code binary at ${config.executable} (BENCH_CLAUDE_BIN)`);
  const undo: Array<() => Promise<void>> = [];
  const started = new Set<number>();
  try {
    const dir = tempDir(`${BENCH_TEMP_PREFIX}${process.pid}-`);
    undo.push(cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true })));
    const api = await new FakeAnthropic().start();
    api.latencyMs = 0;
    api.responder = echoQueryId;
    undo.push(cleanup.add('stop the fake Anthropic API', () => api.stop()));

    // claudeEnv's HOME goes into the bench folder (removed at the end, or by the next run's sweep),
    // and so does Claude Code's TMPDIR (it leaves probes and sockets there).
    const testEnv = claudeEnv(api.url);
    // Only the private folder claudeEnv made for this call (never a real HOME).
    if (testEnv.HOME && dirname(testEnv.HOME) === tmpdir() && basename(testEnv.HOME).startsWith('autopoll-claude-home-')) {
      rmSync(testEnv.HOME, { recursive: true, force: true });
    }
    const home = join(dir, 'home');
    const tmp = join(dir, 'tmp');
    const toolsRoot = join(dir, 'tools');
    for (const d of [join(home, '.claude'), tmp, toolsRoot]) mkdirSync(d, { recursive: true });
    // The baseline runs with the environment the pool's sessions get, so the work matches.
    const env: NodeJS.ProcessEnv = { ...SESSION_ENV_DEFAULTS, ...testEnv, HOME: home, CLAUDE_CONFIG_DIR: join(home, '.claude'), TMPDIR: tmp };

    const version = await claudeVersion(config.executable, env);
    log(`[claude] ${config.executable} (${version ?? 'version unknown'}), fake API at ${api.url} (0 ms latency)`);

    const phases: PhaseResult[] = [];
    const baseline = await runBaseline(config, api, env, toolsRoot, started, log, signal);
    phases.push(baseline);
    for (const sessions of config.pools) {
      const phase = await runPool(sessions, config, api, env, toolsRoot, started, log, signal);
      if (baseline.secPerQuestion && phase.secPerQuestion) phase.speedup = round(baseline.secPerQuestion / phase.secPerQuestion, 1);
      phases.push(phase);
    }
    return {
      benchmark: 'claude',
      targets: CLAUDE_TARGETS,
      config,
      binary: { path: config.executable, version },
      phases,
      leftoverProcesses: leftovers(started, config.executable).length,
    };
  } finally {
    // Anything still running now is killed (its whole group); it would be a bug in the pool's close().
    for (const pid of leftovers(started, config.executable)) killGroup(pid);
    for (const u of undo.reverse()) await u();
  }
}

// ---------------------------------------------------------------- baseline

async function runBaseline(
  config: ClaudeConfig, api: FakeAnthropic, env: NodeJS.ProcessEnv, cwd: string, started: Set<number>, log: (line: string) => void, signal: AbortSignal,
): Promise<PhaseResult> {
  const planned = Math.min(config.n, config.baselineN);
  log(`[claude] baseline: up to ${planned} questions, one \`claude -p\` process each, serially (time budget ${config.baselineBudgetSec} s)`);
  let current: ChildProcess | undefined;
  const undoKill = cleanup.add('kill the baseline claude -p', () => {
    if (current?.pid && current.exitCode === null && current.signalCode === null) killGroup(current.pid);
  });
  const times: number[] = [];
  const failures: string[] = [];
  let answered = 0;
  let failed = 0;
  let stoppedBy: PhaseResult['stoppedBy'] = null;
  const meter = new PhaseMeter(api, () => []);
  meter.start();
  const t0 = performance.now();
  try {
    for (let i = 0; i < planned; i++) {
      throwIfStopped(signal);
      if (performance.now() - t0 > config.baselineBudgetSec * 1000) {
        stoppedBy = 'time budget';
        break;
      }
      const q = question(i);
      // The same work per question as the pool's default sessions: its system prompt, no tools
      // (the context travels in the prompt), no settings.
      const args = ['-p', buildPrompt(q), '--model', config.model, '--tools', '', '--setting-sources', '', '--system-prompt', SHARD_SYSTEM_PROMPT];
      const t = performance.now();
      const run = runProcess(config.executable, args, env, cwd, config.turnTimeoutSec * 1000, (child) => {
        current = child;
        if (child.pid) started.add(child.pid);
      });
      const r = await run;
      throwIfStopped(signal);
      times.push(performance.now() - t);
      if (r.code === 0 && answersItsQuestion(r.stdout, q.queryId)) answered++;
      else {
        failed++;
        if (failures.length < 5) failures.push(`${q.queryId}: ${r.timedOut ? 'timed out; ' : ''}exit ${r.code ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
      }
      if ((i + 1) % 25 === 0) log(`[claude]   ${i + 1} done, ${round((performance.now() - t0) / (i + 1), 0)} ms per question so far`);
    }
  } finally {
    await undoKill();
  }
  const totalSec = (performance.now() - t0) / 1000;
  const done = answered + failed;
  const phase = finishPhase('baseline: claude -p per question', null, planned, done, answered, failed, failures, stoppedBy, totalSec, times, meter.stop(done));
  log(`[claude]   ${done} questions in ${phase.totalSec} s: ${phase.secPerQuestion} s per question${stoppedBy ? ` (stopped by its ${stoppedBy})` : ''}`);
  return phase;
}

interface ProcessResult {
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
function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number, onSpawn: (child: ChildProcess) => void): Promise<ProcessResult> {
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
      if (child.pid) killGroup(child.pid);
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

async function claudeVersion(executable: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const r = await runProcess(executable, ['--version'], env, REPO, 30_000, () => undefined);
  return r.code === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------- pool

async function runPool(
  sessions: number, config: ClaudeConfig, api: FakeAnthropic, env: NodeJS.ProcessEnv, toolsRoot: string, started: Set<number>, log: (line: string) => void,
  signal: AbortSignal,
): Promise<PhaseResult> {
  throwIfStopped(signal);
  const logs = new LogCounter();
  const answerer = new ClaudeAnswerer(
    {
      sessions,
      model: config.model,
      turnTimeoutSec: config.turnTimeoutSec,
      maxTurnsPerSession: config.maxTurnsPerSession,
      maxContextTokens: config.maxContextTokens,
      sessionMemory: 'none',
      toolsRoot,
      env,
      executable: config.executable,
    },
    logs.logger,
  );
  const pool = answerer.pool;
  let launched = 0;
  const replaced: Record<string, number> = {};
  pool.on('sessionStarted', (s) => {
    launched++;
    if (s.pid) started.add(s.pid);
  });
  pool.on('sessionReplaced', (s) => (replaced[s.reason] = (replaced[s.reason] ?? 0) + 1));
  const undoClose = cleanup.add(`close the Claude pool (${sessions} sessions)`, async () => {
    for (const pid of pool.pids()) started.add(pid);
    await answerer.close();
  });

  try {
    log(`[claude] pool of ${sessions}: starting (not timed)`);
    const s0 = performance.now();
    await withDeadline(answerer.start(), 120_000, `the pool of ${sessions} to start`);
    throwIfStopped(signal);
    const startSec = round((performance.now() - s0) / 1000, 2);
    for (const pid of pool.pids()) started.add(pid);
    const launchedAtStart = launched;
    const replacedAtStart = { ...replaced };
    log(`[claude]   started in ${startSec} s; ${config.n} questions, ${sessions} in flight (time budget ${config.poolBudgetSec} s)`);

    const times: number[] = [];
    const failures: string[] = [];
    let answered = 0;
    let failed = 0;
    let stoppedBy: PhaseResult['stoppedBy'] = null;
    let next = 0;
    const abort = new AbortController();
    const ctx = { attempt: 1, replay: false, signal: abort.signal, log: () => undefined, progress: () => undefined };
    // A turn is bounded by the pool's own timeout; this one only keeps the bench from hanging.
    const hardLimitMs = (config.turnTimeoutSec + 30) * 1000;
    const meter = new PhaseMeter(api, () => pool.pids());
    meter.start();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: sessions }, async () => {
        while (next < config.n) {
          if (signal.aborted) return;
          if (performance.now() - t0 > config.poolBudgetSec * 1000) {
            stoppedBy = 'time budget';
            return;
          }
          const q = question(next++);
          const t = performance.now();
          try {
            const r = await withDeadline(answerer.answer(q, ctx), hardLimitMs, `the answer to ${q.queryId}`);
            times.push(performance.now() - t);
            if (answersItsQuestion(r.answer, q.queryId)) answered++;
            else {
              failed++;
              if (failures.length < 5) failures.push(`${q.queryId}: wrong answer: ${r.answer.slice(0, 200)}`);
            }
          } catch (err) {
            times.push(performance.now() - t);
            failed++;
            if (failures.length < 5) failures.push(`${q.queryId}: ${err instanceof Error ? err.message : String(err)}`);
            if (err instanceof DeadlineError) return; // that session is stuck; its worker stops
          }
        }
      }),
    );
    throwIfStopped(signal);
    const totalSec = (performance.now() - t0) / 1000;
    const done = answered + failed;
    const usage = meter.stop(done);
    abort.abort();
    const replacedInPhase: Record<string, number> = {};
    for (const [k, v] of Object.entries(replaced)) if (v - (replacedAtStart[k] ?? 0) > 0) replacedInPhase[k] = v - (replacedAtStart[k] ?? 0);

    const c0 = performance.now();
    for (const pid of pool.pids()) started.add(pid);
    await undoClose();
    const closeSec = round((performance.now() - c0) / 1000, 2);

    const phase = finishPhase(`pool of ${sessions}`, sessions, config.n, done, answered, failed, failures, stoppedBy, totalSec, times, usage);
    phase.target = CLAUDE_TARGETS[sessions] ?? null;
    phase.startSec = startSec;
    phase.closeSec = closeSec;
    phase.sessionsLaunched = launched - launchedAtStart;
    phase.sessionsReplaced = replacedInPhase;
    phase.sessionExits = logs.sessionExits;
    phase.logWarnings = logs.warnings;
    phase.logErrors = logs.errors;
    phase.notable = logs.notable;
    log(`[claude]   ${done} questions in ${phase.totalSec} s: ${phase.secPerQuestion} s per question; closed in ${closeSec} s`);
    return phase;
  } finally {
    await undoClose();
  }
}

/** How a session's end is logged: `closed` (info) when the pool closed or recycled it, `process exited unexpectedly` (warn). */
const EXIT_LOG = /^Claude Code session (closed|process exited)/;

class DeadlineError extends Error {}

function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw new Stopped('the run is being stopped');
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DeadlineError(`timed out after ${ms} ms waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A pino logger for the pool (info and up) that counts sessions' ends and warn/error lines, and keeps the first few of those. */
class LogCounter {
  sessionExits = 0;
  warnings = 0;
  errors = 0;
  readonly notable: string[] = [];
  readonly logger: Logger;

  constructor() {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          try {
            const entry = JSON.parse(line) as { level?: number; msg?: string };
            const level = entry.level ?? 0;
            if (EXIT_LOG.test(entry.msg ?? '')) this.sessionExits++;
            if (level >= 50) this.errors++;
            else if (level >= 40) this.warnings++;
            if (level >= 40 && this.notable.length < 5) this.notable.push(`${level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? line}`);
          } catch {
            // not JSON
          }
        }
        done();
      },
    });
    this.logger = pino({ level: 'info', base: null }, sink);
  }
}

// ---------------------------------------------------------------- measuring

/** CPU and API requests over one phase. */
class PhaseMeter {
  private before = { at: 0, machine: undefined as number | undefined, claude: undefined as number | undefined, bench: 0, messages: 0, all: 0 };

  constructor(private readonly api: FakeAnthropic, private readonly livePids: () => number[]) {}

  /**
   * Claude Code's CPU: the bench's waited-for children (the baseline's processes, sessions that
   * exited) plus the sessions running now, with whatever they waited for.
   */
  private claudeCpu(): number | undefined {
    const self = cpuSecondsWithChildren('self');
    const own = process.cpuUsage();
    if (self === undefined) return undefined;
    let sum = self - (own.user + own.system) / 1e6;
    for (const pid of this.livePids()) sum += cpuSecondsWithChildren(pid) ?? 0;
    return sum;
  }

  start(): void {
    const own = process.cpuUsage();
    this.before = {
      at: performance.now(),
      machine: machineCpuSeconds(),
      claude: this.claudeCpu(),
      bench: (own.user + own.system) / 1e6,
      messages: this.api.messageRequests.length,
      all: this.api.requests.length,
    };
  }

  stop(done: number): Pick<PhaseResult, 'api' | 'cpu'> {
    const wallSec = (performance.now() - this.before.at) / 1000;
    const own = process.cpuUsage();
    const figure = (a: number | undefined, b: number | undefined): CpuFigure | null =>
      a === undefined || b === undefined ? null : { cpuSec: round(b - a, 2), percentOfOneCore: round(((b - a) / wallSec) * 100, 0) };
    const machine = figure(this.before.machine, machineCpuSeconds());
    const claude = figure(this.before.claude, this.claudeCpu());
    const bench = figure(this.before.bench, (own.user + own.system) / 1e6);
    const requests = this.api.messageRequests.slice(this.before.messages);
    const perQ = (c: CpuFigure | null) => (c && done ? round((c.cpuSec / done) * 1000, 0) : null);
    return {
      api: {
        messages: requests.length,
        all: this.api.requests.length - this.before.all,
        messagesPerQuestion: done ? round(requests.length / done, 2) : null,
        withSeveralQuestions: requests.filter((r) => new Set([...r.text.matchAll(QUERY_ID)].map((m) => m[1])).size > 1).length,
      },
      cpu: { machine, claude, bench, claudeMsPerQuestion: perQ(claude), machineMsPerQuestion: perQ(machine) },
    };
  }
}

function finishPhase(
  phase: string, sessions: number | null, planned: number, done: number, answered: number, failed: number, failures: string[],
  stoppedBy: PhaseResult['stoppedBy'], totalSec: number, times: number[], usage: Pick<PhaseResult, 'api' | 'cpu'>,
): PhaseResult {
  return {
    phase,
    sessions,
    planned,
    done,
    answered,
    failed,
    failures,
    stoppedBy,
    totalSec: round(totalSec, 2),
    secPerQuestion: done ? round(totalSec / done, 4) : null,
    speedup: null,
    target: null,
    questionMs: distribution(times),
    startSec: null,
    closeSec: null,
    sessionsLaunched: null,
    sessionsReplaced: null,
    sessionExits: null,
    ...usage,
    logWarnings: 0,
    logErrors: 0,
    notable: [],
  };
}

// ---------------------------------------------------------------- processes

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Processes the bench started that still run the Claude Code binary and are still its children. */
function leftovers(started: Set<number>, executable: string): number[] {
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

// ---------------------------------------------------------------- report

export function formatClaude(result: ClaudeResult): string {
  const [base, ...pools] = result.phases;
  if (!base) return '(no results)';
  const phases = [base, ...pools];
  const header = ['', 'baseline: claude -p each', ...pools.map((p) => `${p.sessions} session${p.sessions === 1 ? '' : 's'}`), 'target'];
  const rows: string[][] = [header];
  const cell = (v: number | null | undefined, unit = '') => (v === null || v === undefined ? '-' : `${v}${unit}`);
  const targets = pools.map((p) => (p.target ? `${p.sessions}: >= ${p.target}x` : '')).filter(Boolean).join('; ');
  rows.push(['seconds per question', ...phases.map((p) => cell(p.secPerQuestion)), '']);
  rows.push(['speed-up vs baseline', '1x', ...pools.map((p) => cell(p.speedup, 'x')), targets]);
  rows.push(['questions done / planned', ...phases.map((p) => `${p.done}/${p.planned}${p.stoppedBy ? ` (${p.stoppedBy})` : ''}`), '']);
  rows.push(['  answered right / failed', ...phases.map((p) => `${p.answered} / ${p.failed}`), 'all / 0']);
  rows.push(['  wall time (s)', ...phases.map((p) => cell(p.totalSec)), '']);
  rows.push(['  per question ms p50 / p99', ...phases.map((p) => (p.questionMs ? `${p.questionMs.p50} / ${p.questionMs.p99}` : '-')), '']);
  rows.push(['API messages requests', ...phases.map((p) => `${p.api.messages} (${cell(p.api.messagesPerQuestion)}/q)`), '']);
  rows.push(['  all requests / with >1 question', ...phases.map((p) => `${p.api.all} / ${p.api.withSeveralQuestions}`), '- / 0']);
  const cpu = (c: CpuFigure | null) => (c ? `${c.percentOfOneCore}% (${c.cpuSec} s)` : '-');
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

  const verdicts: string[] = [];
  for (const p of pools) {
    if (!p.target) continue;
    const ok = (p.speedup ?? 0) >= p.target;
    verdicts.push(`${p.sessions} session${p.sessions === 1 ? '' : 's'}: speed-up ${ok ? 'met' : 'MISSED'} (${p.speedup ?? '-'}x vs >= ${p.target}x${ok || !p.speedup ? '' : `: ${round((p.speedup / p.target) * 100, 0)}% of the target`})`);
  }
  const notes: string[] = [];
  for (const p of phases) {
    if (p.failures.length) notes.push(`${p.phase}: ${p.failed} failed; first: ${p.failures.join(' | ')}`);
    if (p.logWarnings + p.logErrors > 0) notes.push(`${p.phase}: pool log lines at warn/error ${p.logWarnings}/${p.logErrors}; first: ${p.notable.join(' | ')}`);
  }
  if (result.leftoverProcesses) notes.push(`${result.leftoverProcesses} Claude Code process(es) were still running at the end (killed)`);
  return [table(rows), '', ...verdicts.map((v) => `  ${v}`), ...notes.map((n) => `  note: ${n}`)].join('\n');
}
