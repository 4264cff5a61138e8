import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { redactText } from '../../shared/redact.js';
import { AnswerError, FatalAnswererError, RateLimitedError } from '../Answerer.js';

/** What a turn showed before it ended: API retry statuses, assistant error codes, a timeout. */
export interface TurnSignals {
  retryStatus?: number | undefined;
  /**
   * Claude Code's wait before its next try (`retry_delay_ms`): it follows the API's `retry-after`
   * header when the API sent one, else its own backoff. The SDK does not show the header itself.
   */
  retryDelayMs?: number | undefined;
  assistantError?: string | undefined;
  timedOut?: boolean;
}

/** Classifies how a turn failed. Pure: the signals and the result message in, an error out. */
export function classifyTurnFailure(signals: TurnSignals, result: SDKResultMessage | undefined): AnswerError {
  // The result's status is the final word; a retry's is what the turn last saw before it.
  const final: number | null | undefined = result?.subtype === 'success' ? result.api_error_status : undefined;
  const status = final ?? signals.retryStatus;
  const code = signals.assistantError;
  // A 403 (permission_error) is an authentication failure to Claude Code too: it stops the turn the same way.
  if (status === 401 || status === 403) return new FatalAnswererError('not_authenticated', `the Claude API refused the credentials (HTTP ${status})`, status);
  if (code === 'authentication_failed') return new FatalAnswererError('not_authenticated', 'Claude Code found no credentials it can use');
  if (code === 'rate_limit' || code === 'overloaded' || status === 429 || status === 529) {
    return new RateLimitedError(`the Claude API is ${status === 429 || code === 'rate_limit' ? 'rate limiting' : 'overloaded'} (HTTP ${status ?? code})`, signals.retryDelayMs);
  }
  if (signals.timedOut) return new AnswerError('turn_timeout', 'the turn exceeded --turn-timeout and was interrupted', true);
  const detail = result ? (result.subtype === 'success' ? result.result : result.errors.join('; ')) || result.subtype : 'no result';
  // Redacted before it is cut: a secret cut in two would no longer match the rules.
  const clean = redactText(detail);
  const error = new AnswerError('claude_error', `Claude Code ended the turn with an error: ${clean.slice(0, 500)}`, true);
  error.redacted = clean !== detail;
  return error;
}

/**
 * A refusal (401/403, or Claude Code's authentication failure) that was not about the credentials:
 * they worked without the question. Retryable like any failed try; the asker reads the status, not
 * Claude Code's output. Pure.
 */
export function questionRefused(refusal: FatalAnswererError): AnswerError {
  const how = refusal.httpStatus === undefined ? 'as not authenticated' : `(HTTP ${refusal.httpStatus})`;
  return new AnswerError('question_refused', `the Claude API refused the question ${how}`, true);
}
