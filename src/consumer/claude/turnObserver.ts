import type { SDKMessage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { FatalAnswererError, RateLimitedError, type AnswerError } from '../Answerer.js';
import { roundUsd } from './cost.js';
import { classifyTurnFailure, type TurnSignals } from './turnFailure.js';

/** What one message of Claude Code's stream means to whoever waits for a turn. */
export type TurnEvent =
  /** The process started: its first session id, its model and Claude Code's version. */
  | { kind: 'init'; sessionId: string; model: string; version: string }
  /** A retry autopoll does not wait out: the turn has failed already. */
  | { kind: 'give_up'; failure: AnswerError }
  | { kind: 'result'; result: SDKResultMessage };

/**
 * Reads one message of a turn's stream: what it showed goes into `signals`, what ends the wait is
 * returned. Claude Code would keep retrying inside the turn (even a 401, for minutes); the first
 * retry of a rate limit or of refused credentials already says how the turn ends.
 */
export function observeTurn(m: SDKMessage, signals: TurnSignals): TurnEvent | undefined {
  if (m.type === 'system' && m.subtype === 'init') return { kind: 'init', sessionId: m.session_id, model: m.model, version: m.claude_code_version };
  if (m.type === 'system' && m.subtype === 'api_retry') {
    signals.retryStatus = m.error_status ?? undefined;
    signals.retryDelayMs = m.retry_delay_ms;
    signals.assistantError = m.error;
    const failure = classifyTurnFailure(signals, undefined);
    return failure instanceof RateLimitedError || failure instanceof FatalAnswererError ? { kind: 'give_up', failure } : undefined;
  }
  if (m.type === 'assistant' && m.error) signals.assistantError = m.error;
  if (m.type === 'result') return { kind: 'result', result: m };
  return undefined;
}

/** Why the turn failed, or undefined when it answered. Pure. */
export function turnFailure(signals: TurnSignals, result: SDKResultMessage | undefined): AnswerError | undefined {
  if (result?.subtype === 'success' && !result.is_error && !signals.timedOut) return undefined;
  return classifyTurnFailure(signals, result);
}

/** The model that answered, by the result's usage; else the one the process started with. */
export function answeringModel(result: SDKResultMessage | undefined, started: string | undefined): string | undefined {
  return Object.keys(result?.modelUsage ?? {})[0] ?? started;
}

export interface TurnOutput {
  text: string;
  /** Claude Code's session id of this turn (a new one after each /clear); not the bridge's conversation. */
  claudeSessionId: string;
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  /** Tokens of context the turn was sent with: what grows when a session keeps its memory. */
  contextTokens: number;
  costUsd: number;
}

/**
 * What a turn gave, from its result. `costBefore` is the session's total before it: Claude Code
 * reports the total since its last /clear. Pure.
 */
export function turnOutput(result: SDKResultMessage, costBefore: number, startedModel: string | undefined): TurnOutput {
  const usage = result.usage;
  return {
    text: result.subtype === 'success' ? result.result : '',
    claudeSessionId: result.session_id,
    model: answeringModel(result, startedModel),
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    contextTokens: usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0),
    // Rounded where it enters autopoll's data: the difference of two float sums carries their noise.
    costUsd: roundUsd(Math.max(0, result.total_cost_usd - costBefore)),
  };
}
