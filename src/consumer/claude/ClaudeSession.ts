import { query, type Query, type SDKMessage, type SDKResultMessage, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/logger.js';
import { AnswerError, FatalAnswererError, RateLimitedError } from '../Answerer.js';
import { AsyncQueue } from './AsyncQueue.js';
import { roundUsd } from './cost.js';
import { classifyTurnFailure, type TurnSignals } from './turnFailure.js';
import { killGroup, spawnInGroup } from './processTree.js';
import { READ_ONLY_TOOLS, readOnlyPolicy } from './toolPolicy.js';
import { SHARD_SYSTEM_PROMPT } from './prompt.js';

/**
 * What an unattended answering session does without: telemetry, update checks, CLAUDE.md files
 * from its folder (another agent's questions must not pick up local instructions), checkpoints
 * of files it never edits, background tasks. The consumer's own environment overrides these.
 */
export const SESSION_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  CLAUDE_CODE_DISABLE_CLAUDE_MDS: '1',
  CLAUDE_CODE_DISABLE_FILE_CHECKPOINTING: '1',
  CLAUDE_CODE_DISABLE_BACKGROUND_TASKS: '1',
  CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
};

export interface ClaudeSessionOptions {
  model: string;
  /** The session's working folder, and what its read-only tools may read. */
  cwd: string;
  /** Give the session the read-only tools; without them it answers from the prompt alone. */
  tools: boolean;
  env: NodeJS.ProcessEnv;
  /** How long an interrupted turn may take to stop before the process is killed. */
  interruptGraceMs: number;
  /** Claude Code binary; the SDK's own when unset. */
  executable?: string | undefined;
}

export interface TurnOutput {
  text: string;
  /** The Claude Code conversation id of this turn (a new one after each /clear). */
  conversationId: string;
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  /** Tokens of context the turn was sent with: what grows when a session keeps its memory. */
  contextTokens: number;
  costUsd: number;
}

interface PendingTurn {
  resolve: (r: SDKResultMessage) => void;
  reject: (e: Error) => void;
  signals: TurnSignals;
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
  private closing = false;
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
      options: {
        model: options.model,
        cwd: options.cwd,
        env: { ...SESSION_ENV_DEFAULTS, ...options.env },
        settingSources: [],
        // A service answering for days must not grow a transcript file per question on disk.
        persistSession: false,
        systemPrompt: SHARD_SYSTEM_PROMPT,
        tools: options.tools ? READ_ONLY_TOOLS : [],
        allowedTools: [],
        permissionMode: 'default',
        canUseTool: readOnlyPolicy(options.cwd),
        ...(options.executable ? { pathToClaudeCodeExecutable: options.executable } : {}),
        spawnClaudeCodeProcess: (spawnOptions) => {
          const child = spawnInGroup(spawnOptions, (text) => (this.stderrTail = (this.stderrTail + text).slice(-4000)));
          this.child = child;
          child.once('exit', (code, signal) => this.onExit(code, signal));
          return child;
        },
      },
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
    const usage = result.usage;
    const context = usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
    this.contextTokens = context;
    // Rounded where it enters autopoll's data: the difference of two float sums carries their noise.
    const cost = roundUsd(Math.max(0, result.total_cost_usd - this.costSoFar));
    this.costSoFar = result.total_cost_usd;
    return {
      text: result.subtype === 'success' ? result.result : '',
      conversationId: result.session_id,
      model: Object.keys(result.modelUsage ?? {})[0] ?? this.model,
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      contextTokens: context,
      costUsd: cost,
    };
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

  kill(): void {
    if (this.child) killGroup(this.child);
  }

  private send(text: string, timeoutMs: number): Promise<SDKResultMessage> {
    if (this.exited) return Promise.reject(crashed(this.stderrTail));
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
    // The stream may end before the exit event: a pending turn cannot complete either way.
    this.pending?.reject(crashed(this.stderrTail));
  }

  private onMessage(m: SDKMessage): void {
    if (m.type === 'system' && m.subtype === 'init') {
      if (!this.id) this.id = m.session_id;
      this.model = m.model;
      return;
    }
    const turn = this.pending;
    if (!turn) return;
    if (m.type === 'system' && m.subtype === 'api_retry') {
      turn.signals.retryStatus = m.error_status ?? undefined;
      turn.signals.retryDelayMs = m.retry_delay_ms;
      turn.signals.assistantError = m.error;
      const failure = classifyTurnFailure(turn.signals, undefined);
      // Claude Code would keep retrying inside the turn (even a 401, for minutes); autopoll backs the
      // question off (a rate limit), or stops the worker (credentials), instead.
      if (failure instanceof RateLimitedError || failure instanceof FatalAnswererError) this.abandon(turn, failure);
      return;
    }
    if (m.type === 'assistant' && m.error) {
      turn.signals.assistantError = m.error;
      return;
    }
    if (m.type === 'result') {
      if (m.subtype === 'success' && !m.is_error && !turn.signals.timedOut) turn.resolve(m);
      else turn.reject(classifyTurnFailure(turn.signals, m));
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.input.end();
    this.pending?.reject(crashed(this.stderrTail));
    const fields = { sessionId: this.id, sessionPid: this.pid, code, signal };
    if (this.closing) this.logger.info(fields, 'Claude Code session closed');
    else this.logger.warn({ ...fields, stderr: this.stderrTail.slice(-500) }, 'Claude Code session process exited unexpectedly');
    this.emit('exit', { code, signal, stderr: this.stderrTail });
  }
}

function crashed(stderr: string): AnswerError {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  return new AnswerError('session_crashed', `the Claude Code process exited mid-turn${tail ? `: ${tail}` : ''}`, true);
}
