import { query, type Query, type SDKMessage, type SDKResultMessage, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/logger.js';
import { redactText } from '../../shared/redact.js';
import { AnswerError } from '../Answerer.js';
import { AsyncQueue } from './AsyncQueue.js';
import type { TurnSignals } from './turnFailure.js';
import { killGroup } from './processTree.js';
import { sessionQueryOptions, type SessionSettings } from './sessionOptions.js';
import { observeTurn, turnFailure, turnOutput, type TurnOutput } from './turnObserver.js';

export interface ClaudeSessionOptions extends SessionSettings {
  /** How long an interrupted turn may take to stop before the process is killed. */
  interruptGraceMs: number;
}

interface PendingTurn {
  resolve: (r: SDKResultMessage) => void;
  reject: (e: Error) => void;
  signals: TurnSignals;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ClaudeSessionEvents {
  exit: [info: { code: number | null; signal: NodeJS.Signals | null; stderr: string }];
}

/**
 * One long-lived Claude Code process in streaming-input mode: many turns, one at a time. It
 * owns the process (spawned in its own group) so that a hung one can be killed with all it
 * started; a turn that outlives its timeout is interrupted, and killed after a grace period.
 */
export class ClaudeSession extends EventEmitter<ClaudeSessionEvents> {
  private readonly input = new AsyncQueue<SDKUserMessage>();
  private readonly query: Query;
  private child: ChildProcess | undefined;
  private pending: PendingTurn | undefined;
  private stderrTail = '';
  private exited = false;
  private exitInfo: ExitInfo | undefined;
  /** Resolves with the exit: a turn whose stream ends first still names the exit code. */
  private readonly exitSeen = new Promise<ExitInfo>((resolve) => this.once('exit', resolve));
  private closing = false;
  /** Killed before its process was spawned: the process is killed as it appears. */
  private killed = false;
  private costSoFar = 0;
  private model: string | undefined;
  /** The first Claude Code session id of the process: stable for its life, unlike /clear's new ones. */
  id = '';
  turns = 0;
  contextTokens = 0;

  constructor(
    private readonly options: ClaudeSessionOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.query = query({
      prompt: this.input,
      options: sessionQueryOptions(options, {
        onStderr: (text) => (this.stderrTail = (this.stderrTail + text).slice(-4000)),
        onSpawn: (child) => {
          this.child = child;
          child.once('exit', (code, signal) => this.onExit(code, signal));
          if (this.killed) killGroup(child.pid);
        },
      }),
    });
    void this.pump();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Boots the process with a /clear (no API call), so the first question does not pay the start. */
  async warm(timeoutMs: number): Promise<void> {
    await this.clear(timeoutMs);
    this.logger.info({ sessionId: this.id, sessionPid: this.pid }, 'Claude Code session ready');
  }

  /** Starts a fresh conversation inside the same process (new Claude session id, no API call). */
  async clear(timeoutMs = 30_000): Promise<void> {
    await this.send('/clear', timeoutMs);
    this.costSoFar = 0;
    this.contextTokens = 0;
  }

  /** One question, one turn; rejects with an AnswerError that says whether to retry. */
  async turn(text: string, timeoutMs: number): Promise<TurnOutput> {
    const result = await this.send(text, timeoutMs);
    this.turns++;
    const out = turnOutput(result, this.costSoFar, this.model);
    this.contextTokens = out.contextTokens;
    this.costSoFar = result.total_cost_usd;
    return out;
  }

  /** Ends the process: stdin closed, a moment to exit, then the group is killed. */
  async close(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const exited = new Promise<void>((r) => this.once('exit', () => r()));
    this.input.end();
    this.query.close();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL to its process group; before the SDK has spawned the process, to the process as it is spawned. */
  kill(): void {
    this.killed = true;
    killGroup(this.child?.pid);
  }

  private send(text: string, timeoutMs: number): Promise<SDKResultMessage> {
    if (this.exited) return Promise.reject(crashed(this.id, this.exitInfo));
    if (this.pending) return Promise.reject(new AnswerError('session_busy', 'the session is already in a turn', true));
    return new Promise<SDKResultMessage>((resolve, reject) => {
      const timer = setTimeout(() => void this.timeOut(timeoutMs), timeoutMs);
      const settle = <T>(fn: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        this.pending = undefined;
        fn(v);
      };
      this.pending = { resolve: settle(resolve), reject: settle(reject), signals: {} };
      this.input.push({ type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null, session_id: '' } as SDKUserMessage);
    });
  }

  /** Interrupts an overdue turn; a process that does not stop within the grace period is killed. */
  private async timeOut(timeoutMs: number): Promise<void> {
    const turn = this.pending;
    if (!turn) return;
    this.logger.warn({ sessionId: this.id, sessionPid: this.pid, timeoutMs }, 'turn timed out; interrupting it');
    turn.signals.timedOut = true;
    const stopped = await Promise.race([
      this.query.interrupt().then(() => this.waitIdle(this.options.interruptGraceMs)),
      new Promise<boolean>((r) => setTimeout(() => r(false), this.options.interruptGraceMs)),
    ]).catch(() => false);
    if (!stopped) {
      this.logger.error({ sessionId: this.id, sessionPid: this.pid }, 'session did not answer the interrupt; killing its process group');
      this.kill();
    }
  }

  /**
   * Fails the caller's turn now, and interrupts it in the process; the session stays busy until
   * the interrupted turn's result arrives (or is killed after the grace period).
   */
  private abandon(turn: PendingTurn, error: Error): void {
    turn.reject(error);
    const done = () => {
      if (this.pending === draining) this.pending = undefined;
    };
    const draining: PendingTurn = { resolve: done, reject: done, signals: { timedOut: true } };
    this.pending = draining;
    void this.query.interrupt().catch(() => undefined);
    void this.waitIdle(this.options.interruptGraceMs).then((idle) => {
      if (!idle) this.kill();
    });
  }

  /** Resolves true once no turn is pending (the interrupted turn's result arrived). */
  private waitIdle(withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    return new Promise((resolve) => {
      const check = () => {
        if (!this.pending) resolve(true);
        else if (Date.now() > deadline) resolve(false);
        else setTimeout(check, 10);
      };
      check();
    });
  }

  private async pump(): Promise<void> {
    try {
      for await (const message of this.query) this.onMessage(message);
    } catch (err) {
      this.logger.debug({ err, sessionId: this.id }, 'session stream ended with an error');
    }
    // The stream may end before the exit event: a pending turn cannot complete either way. A
    // moment for the exit, so that the reason names its code.
    const exit = this.exitInfo ?? (await Promise.race([this.exitSeen, new Promise<undefined>((r) => setTimeout(r, 1000))]));
    this.pending?.reject(crashed(this.id, exit));
  }

  private onMessage(m: SDKMessage): void {
    const event = observeTurn(m, this.pending?.signals ?? {});
    if (event?.kind === 'init') {
      if (!this.id) this.id = event.sessionId;
      this.model = event.model;
      return;
    }
    const turn = this.pending;
    if (!turn || !event) return;
    if (event.kind === 'give_up') {
      // Autopoll backs the question off (a rate limit), or stops the worker (credentials), instead.
      this.abandon(turn, event.failure);
      return;
    }
    const failure = turnFailure(turn.signals, event.result);
    if (failure) turn.reject(failure);
    else turn.resolve(event.result);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.exitInfo = { code, signal };
    this.input.end();
    this.pending?.reject(crashed(this.id, this.exitInfo));
    const fields = { sessionId: this.id, sessionPid: this.pid, code, signal };
    if (this.closing) this.logger.info(fields, 'Claude Code session closed');
    // Its stderr goes to the log only (redacted before it is cut), never to the asker.
    else this.logger.warn({ ...fields, stderr: redactText(this.stderrTail).slice(-500) }, 'Claude Code session process exited unexpectedly');
    this.emit('exit', { code, signal, stderr: this.stderrTail });
  }
}

/**
 * The asker's reason: how the process ended and where to look. Its stderr may quote the question,
 * the environment or a path, so it stays in the consumer's log, found by the session id.
 */
function crashed(sessionId: string, exit: ExitInfo | undefined): AnswerError {
  const how = exit === undefined ? 'exited' : exit.signal ? `was killed (${exit.signal})` : `exited (code ${exit.code})`;
  return new AnswerError('session_crashed', `the Claude Code process ${how} during the turn; see the consumer's log, session ${sessionId || '(not started)'}`, true);
}
