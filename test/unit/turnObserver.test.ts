import type { SDKMessage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { FatalAnswererError, RateLimitedError } from '../../src/consumer/Answerer.js';
import type { TurnSignals } from '../../src/consumer/claude/turnFailure.js';
import { answeringModel, observeTurn, turnFailure, turnOutput } from '../../src/consumer/claude/turnObserver.js';

const message = (fields: Record<string, unknown>) => fields as unknown as SDKMessage;

function result(fields: Record<string, unknown> = {}): SDKResultMessage {
  return {
    type: 'result', subtype: 'success', is_error: false, result: 'the answer', session_id: 'claude-session-2', total_cost_usd: 0.0003,
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
    modelUsage: { 'claude-haiku-4-5': {} },
    ...fields,
  } as unknown as SDKResultMessage;
}

const retry = (status: number | null, error: string, delay = 1000) => message({ type: 'system', subtype: 'api_retry', error_status: status, error, retry_delay_ms: delay });

describe('observeTurn', () => {
  it('reads the init: the session id, model and version', () => {
    expect(observeTurn(message({ type: 'system', subtype: 'init', session_id: 's1', model: 'haiku', claude_code_version: '2.1.330' }), {})).toEqual({
      kind: 'init', sessionId: 's1', model: 'haiku', version: '2.1.330',
    });
  });

  it('gives up at the first retry of refused credentials or a rate limit, with the signals it saw', () => {
    const refused: TurnSignals = {};
    const gaveUp = observeTurn(retry(401, 'authentication_failed'), refused);
    expect(gaveUp?.kind === 'give_up' && gaveUp.failure).toBeInstanceOf(FatalAnswererError);
    expect(refused).toEqual({ retryStatus: 401, retryDelayMs: 1000, assistantError: 'authentication_failed' });
    const limited = observeTurn(retry(429, 'rate_limit', 7000), {});
    expect(limited?.kind === 'give_up' && limited.failure).toBeInstanceOf(RateLimitedError);
    expect(limited?.kind === 'give_up' && (limited.failure as RateLimitedError).retryAfterMs).toBe(7000);
  });

  it('waits out a retry of a server error, keeping its status for the result', () => {
    const signals: TurnSignals = {};
    expect(observeTurn(retry(500, 'server_error'), signals)).toBeUndefined();
    expect(signals.retryStatus).toBe(500);
  });

  it("keeps an assistant message's error and returns the result", () => {
    const signals: TurnSignals = {};
    expect(observeTurn(message({ type: 'assistant', error: 'rate_limit' }), signals)).toBeUndefined();
    expect(signals.assistantError).toBe('rate_limit');
    expect(observeTurn(message({ type: 'assistant' }), signals)).toBeUndefined();
    const r = result();
    expect(observeTurn(r, signals)).toEqual({ kind: 'result', result: r });
  });
});

describe('turnFailure', () => {
  it('is none for a success, and the classified failure for an error, a timed-out turn or no result', () => {
    expect(turnFailure({}, result())).toBeUndefined();
    expect(turnFailure({}, result({ is_error: true, result: 'boom' }))?.kind).toBe('claude_error');
    expect(turnFailure({ timedOut: true }, result())?.kind).toBe('turn_timeout');
    expect(turnFailure({ retryStatus: 401 }, undefined)).toBeInstanceOf(FatalAnswererError);
  });
});

describe('turnOutput', () => {
  it("takes the text, Claude's session id, the tokens, the context sent and this turn's share of the cost", () => {
    expect(turnOutput(result({ total_cost_usd: 0.0012345000000000001 }), 0.0002, 'haiku')).toEqual({
      text: 'the answer', claudeSessionId: 'claude-session-2', model: 'claude-haiku-4-5',
      inputTokens: 10, outputTokens: 5, contextTokens: 130, costUsd: 0.0010345,
    });
  });

  it('never reports a negative cost, and no text for an error result', () => {
    const out = turnOutput(result({ subtype: 'error_during_execution', total_cost_usd: 0.0001 }), 0.0005, 'haiku');
    expect(out.costUsd).toBe(0);
    expect(out.text).toBe('');
  });

  it('names the model the process started with when the result has no usage by model', () => {
    expect(answeringModel(result({ modelUsage: {} }), 'haiku')).toBe('haiku');
    expect(answeringModel(undefined, undefined)).toBeUndefined();
  });
});
