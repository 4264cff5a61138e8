import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuestionJob } from '../shared/jobs.js';
import type { OwnedFiles } from '../shared/ownedFiles.js';
import type { Logger } from '../shared/logger.js';
import type { EventSource, SessionPoolEvents } from '../shared/roleEvents.js';
import { FatalAnswererError, type AnswerContext, type AnswerError, type AnswerResult, type Answerer } from './Answerer.js';
import { ClaudeSession } from './claude/ClaudeSession.js';
import { ClaudeSessionPool } from './claude/ClaudeSessionPool.js';
import type { SessionMemory } from './claude/poolOptions.js';
import { CredentialProbe } from './claude/credentialProbe.js';
import { credentialSource, credentialsRefusedMessage, noCredentialsMessage, readClaudeAuthInputs } from './claude/credentials.js';
import { buildPrompt } from './claude/prompt.js';
import { extractSources } from './claude/sources.js';
import { questionRefused } from './claude/turnFailure.js';

export interface ClaudeAnswererOptions {
  /** The most sessions at once. */
  sessions: number;
  /** Sessions kept warm with no question (default: all of them). */
  minSessions?: number;
  /** A session beyond the minimum closes after this many seconds without a turn (default: never). */
  sessionIdleTimeoutSec?: number;
  model: string;
  turnTimeoutSec: number;
  maxTurnsPerSession: number;
  maxContextTokens: number;
  sessionMemory: SessionMemory;
  /** Gives the sessions read-only tools inside this folder; none when unset. */
  toolsRoot?: string | undefined;
  /** Files the tools never read: the bridge file when it runs beside the producer (`up`), the private Redis's data. */
  owned?: OwnedFiles;
  /** The consumer's environment (default: the process's); the sessions get its allowlisted part. */
  env?: NodeJS.ProcessEnv;
  /** Variables the sessions get besides the allowlist (--claude-env). */
  passEnv?: readonly string[];
  executable?: string | undefined;
  interruptGraceMs?: number;
  /** How long the credentials probe after a 401/403 may take (tests shorten it). */
  probeTimeoutMs?: number;
}

/** Answers with a pool of persistent Claude Code sessions: one turn per question. */
export class ClaudeAnswerer implements Answerer {
  readonly llmType = 'claude_code';
  readonly pool: ClaudeSessionPool;
  /** The sessions' empty working folder when there is no tools root: made by start, removed by close. */
  private sessionDir = '';
  /** Where the sessions take their credentials from, as found at start (named, never the secret). */
  private credentials: string | undefined;
  private readonly probe: CredentialProbe;

  constructor(
    private readonly options: ClaudeAnswererOptions,
    private readonly logger: Logger,
  ) {
    this.pool = new ClaudeSessionPool(
      () => this.newSession(),
      {
        size: options.sessions,
        minSessions: options.minSessions,
        ...(options.sessionIdleTimeoutSec !== undefined ? { idleTimeoutMs: options.sessionIdleTimeoutSec * 1000 } : {}),
        turnTimeoutMs: options.turnTimeoutSec * 1000,
        maxTurnsPerSession: options.maxTurnsPerSession,
        maxContextTokens: options.maxContextTokens,
        memory: options.sessionMemory,
        startTimeoutMs: 60_000,
      },
      logger,
    );
    this.probe = new CredentialProbe(() => this.newSession(), { timeoutMs: options.probeTimeoutMs ?? 30_000, refusalsPerProof: options.sessions }, logger);
  }

  /** A session as the pool's are: the probe's too, so that it asks exactly as they do, minus the question. */
  private newSession(): ClaudeSession {
    const o = this.options;
    return new ClaudeSession(
      {
        model: o.model,
        cwd: o.toolsRoot ?? this.sessionDir,
        // Without a tools root there is nothing to read: the context travels in the prompt.
        tools: o.toolsRoot !== undefined,
        ...(o.owned ? { owned: o.owned } : {}),
        env: o.env ?? process.env,
        passEnv: o.passEnv,
        interruptGraceMs: o.interruptGraceMs ?? 5000,
        executable: o.executable,
      },
      this.logger,
    );
  }

  /**
   * Fails with a FatalAnswererError, before any session starts, when Claude Code would find no
   * credentials. `stopping` aborted: the sessions still starting are killed and it rejects.
   */
  async start(stopping?: AbortSignal): Promise<void> {
    const auth = readClaudeAuthInputs(this.options.env ?? process.env);
    this.credentials = credentialSource(auth);
    if (this.credentials === undefined) throw new FatalAnswererError('no_credentials', noCredentialsMessage(auth));
    this.logger.info({ credentialSource: this.credentials }, 'Claude credentials found');
    stopping?.throwIfAborted();
    if (this.options.toolsRoot === undefined) this.sessionDir = mkdtempSync(join(tmpdir(), 'autopoll-session-'));
    const giveUp = () => void this.pool.close();
    stopping?.addEventListener('abort', giveUp, { once: true });
    try {
      await this.pool.start();
    } catch (err) {
      // The process exits on a failed start: the sessions that did start, and the folder, would outlive it.
      await this.close();
      throw err;
    } finally {
      stopping?.removeEventListener('abort', giveUp);
    }
  }

  async answer(q: QuestionJob, ctx: AnswerContext): Promise<AnswerResult> {
    const turn = await this.pool.run(q.conversationId, buildPrompt(q), ctx).catch(async (err: unknown) => {
      throw err instanceof FatalAnswererError ? await this.judgeRefusal(q, err) : err;
    });
    this.probe.proved();
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

  /**
   * A 401/403 halts this consumer only when its credentials are refused without the question too:
   * a refusal of what one question says (a gateway's filter) must not stop every consumer it
   * reaches. Not proven (the probe timed out, the network failed): this try fails like any other,
   * bounded by --attempts, rather than taking the consumer out of the fleet on a guess.
   */
  private async judgeRefusal(q: QuestionJob, refusal: FatalAnswererError): Promise<AnswerError> {
    const verdict = await this.probe.check();
    // The credentials are at fault: the message names where they came from and the fix.
    if (verdict.kind === 'refused') return new FatalAnswererError(verdict.refusal.kind, credentialsRefusedMessage(verdict.refusal.message, this.credentials), verdict.refusal.httpStatus);
    const probe = verdict.kind === 'accepted' ? 'the credentials work without it' : `not proven to be the credentials: ${verdict.reason}`;
    this.logger.warn({ queryId: q.queryId, refusal: refusal.message, probe }, 'the Claude API refused a question; this consumer goes on answering');
    return questionRefused(refusal);
  }

  sessionPids(): number[] {
    return this.pool.pids();
  }

  liveSessions(): number {
    return this.pool.counts().live;
  }

  get sessionEvents(): EventSource<SessionPoolEvents> {
    return this.pool;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.probe.close()]);
    if (this.sessionDir) rmSync(this.sessionDir, { recursive: true, force: true });
  }
}
