import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuestionJob } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import { FatalAnswererError, type AnswerContext, type AnswerResult, type Answerer } from './Answerer.js';
import { ClaudeSession } from './claude/ClaudeSession.js';
import { ClaudeSessionPool, type SessionMemory } from './claude/ClaudeSessionPool.js';
import { credentialSource, credentialsRefusedMessage, noCredentialsMessage, readClaudeAuthInputs } from './claude/credentials.js';
import { buildPrompt } from './claude/prompt.js';
import { extractSources } from './claude/sources.js';

export interface ClaudeAnswererOptions {
  sessions: number;
  model: string;
  turnTimeoutSec: number;
  maxTurnsPerSession: number;
  maxContextTokens: number;
  sessionMemory: SessionMemory;
  /** Gives the sessions read-only tools inside this folder; none when unset. */
  toolsRoot?: string | undefined;
  env?: NodeJS.ProcessEnv;
  executable?: string | undefined;
  interruptGraceMs?: number;
}

/** Answers with a pool of persistent Claude Code sessions: one turn per question. */
export class ClaudeAnswerer implements Answerer {
  readonly llmType = 'claude_code';
  readonly pool: ClaudeSessionPool;
  /** The sessions' empty working folder when there is no tools root: made by start, removed by close. */
  private sessionDir = '';
  /** Where the sessions take their credentials from, as found at start (named, never the secret). */
  private credentials: string | undefined;

  constructor(
    private readonly options: ClaudeAnswererOptions,
    private readonly logger: Logger,
  ) {
    this.pool = new ClaudeSessionPool(
      () =>
        new ClaudeSession(
          {
            model: options.model,
            cwd: options.toolsRoot ?? this.sessionDir,
            // Without a tools root there is nothing to read: the context travels in the prompt.
            tools: options.toolsRoot !== undefined,
            env: options.env ?? process.env,
            interruptGraceMs: options.interruptGraceMs ?? 5000,
            executable: options.executable,
          },
          logger,
        ),
      {
        size: options.sessions,
        turnTimeoutMs: options.turnTimeoutSec * 1000,
        maxTurnsPerSession: options.maxTurnsPerSession,
        maxContextTokens: options.maxContextTokens,
        memory: options.sessionMemory,
        startTimeoutMs: 60_000,
      },
      logger,
    );
  }

  /** Fails with a FatalAnswererError, before any session starts, when Claude Code would find no credentials. */
  async start(): Promise<void> {
    const auth = readClaudeAuthInputs(this.options.env ?? process.env);
    this.credentials = credentialSource(auth);
    if (this.credentials === undefined) throw new FatalAnswererError('no_credentials', noCredentialsMessage(auth));
    this.logger.info({ credentialSource: this.credentials }, 'Claude credentials found');
    if (this.options.toolsRoot === undefined) this.sessionDir = mkdtempSync(join(tmpdir(), 'autopoll-session-'));
    try {
      await this.pool.start();
    } catch (err) {
      // The process exits on a failed start: the sessions that did start, and the folder, would outlive it.
      await this.close();
      throw err;
    }
  }

  async answer(q: QuestionJob, ctx: AnswerContext): Promise<AnswerResult> {
    const turn = await this.pool.run(q.conversationId, buildPrompt(q), ctx).catch((err: unknown) => {
      // Only this consumer's credentials can be at fault: the message names where they came from and the fix.
      throw err instanceof FatalAnswererError ? new FatalAnswererError(err.kind, credentialsRefusedMessage(err.message, this.credentials)) : err;
    });
    this.logger.debug({ queryId: q.queryId, sessionId: turn.sessionId, sessionPid: turn.sessionPid }, 'turn done');
    return {
      answer: turn.text,
      sources: extractSources(turn.text),
      model: turn.model ?? this.options.model,
      sessionId: turn.sessionId,
      ...(turn.sessionPid !== undefined ? { sessionPid: turn.sessionPid } : {}),
      usage: { inputTokens: turn.inputTokens, outputTokens: turn.outputTokens, costUsd: turn.costUsd },
    };
  }

  sessionPids(): number[] {
    return this.pool.pids();
  }

  async close(): Promise<void> {
    await this.pool.close();
    if (this.sessionDir) rmSync(this.sessionDir, { recursive: true, force: true });
  }
}
