import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { AnswerError, FatalAnswererError, RateLimitedError } from '../../src/consumer/Answerer.js';
import { classifyTurnFailure, questionRefused } from '../../src/consumer/claude/turnFailure.js';

function success(fields: { result?: string; api_error_status?: number | null; is_error?: boolean } = {}): SDKResultMessage {
  return { type: 'result', subtype: 'success', is_error: true, result: '', ...fields } as unknown as SDKResultMessage;
}

function errorResult(
  subtype: 'error_during_execution' | 'error_max_turns' | 'error_max_budget_usd',
  errors: string[],
  extra: Record<string, unknown> = {},
): SDKResultMessage {
  return { type: 'result', subtype, is_error: true, errors, ...extra } as unknown as SDKResultMessage;
}

describe('Answerer error classes', () => {
  it('AnswerError keeps kind, message and retryable', () => {
    const e = new AnswerError('some_kind', 'went wrong', true);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AnswerError');
    expect(e.kind).toBe('some_kind');
    expect(e.message).toBe('went wrong');
    expect(e.retryable).toBe(true);
    expect(new AnswerError('k', 'm', false).retryable).toBe(false);
  });

  it('RateLimitedError is a retryable rate_limited AnswerError flagged rateLimited', () => {
    const e = new RateLimitedError('slow down');
    expect(e).toBeInstanceOf(AnswerError);
    expect(e).not.toBeInstanceOf(FatalAnswererError);
    expect(e.kind).toBe('rate_limited');
    expect(e.retryable).toBe(true);
    expect(e.rateLimited).toBe(true);
    expect(e.message).toBe('slow down');
    expect(e.name).toBe('RateLimitedError');
    expect('fatal' in e).toBe(false);
  });

  it('FatalAnswererError is a non-retryable AnswerError flagged fatal', () => {
    const e = new FatalAnswererError('not_authenticated', 'no key');
    expect(e).toBeInstanceOf(AnswerError);
    expect(e).not.toBeInstanceOf(RateLimitedError);
    expect(e.kind).toBe('not_authenticated');
    expect(e.retryable).toBe(false);
    expect(e.fatal).toBe(true);
    expect(e.message).toBe('no key');
    expect(e.name).toBe('FatalAnswererError');
    expect('rateLimited' in e).toBe(false);
  });
});

describe('classifyTurnFailure: authentication', () => {
  function expectNotAuthenticated(e: AnswerError, message: string, httpStatus?: number): void {
    expect(e).toBeInstanceOf(FatalAnswererError);
    expect((e as FatalAnswererError).httpStatus).toBe(httpStatus);
    expect(e.kind).toBe('not_authenticated');
    expect(e.message).toBe(message);
    expect(e.retryable).toBe(false);
    expect((e as FatalAnswererError).fatal).toBe(true);
  }
  const refused = (status: number) => `the Claude API refused the credentials (HTTP ${status})`;
  const none = 'Claude Code found no credentials it can use';

  it('a 401 retry status', () => {
    expectNotAuthenticated(classifyTurnFailure({ retryStatus: 401 }, undefined), refused(401), 401);
  });

  it('a 403 (permission_error), as a retry status or in the result', () => {
    expectNotAuthenticated(classifyTurnFailure({ retryStatus: 403 }, undefined), refused(403), 403);
    expectNotAuthenticated(classifyTurnFailure({ assistantError: 'authentication_failed' }, success({ api_error_status: 403, result: 'Failed to authenticate. API Error: 403' })), refused(403), 403);
  });

  it('an authentication_failed assistant error without a status: no credentials (Claude Code sent no request)', () => {
    expectNotAuthenticated(classifyTurnFailure({ assistantError: 'authentication_failed' }, success({ api_error_status: null, result: 'Not logged in · Please run /login' })), none);
  });

  it("a 401 in the result's api_error_status", () => {
    expectNotAuthenticated(classifyTurnFailure({}, success({ api_error_status: 401, result: 'Invalid API key' })), refused(401), 401);
  });

  it('wins over a rate limit and a timeout', () => {
    expectNotAuthenticated(classifyTurnFailure({ retryStatus: 401, assistantError: 'rate_limit', timedOut: true }, undefined), refused(401), 401);
    expectNotAuthenticated(classifyTurnFailure({ retryStatus: 429, assistantError: 'authentication_failed' }, undefined), none);
  });
});

describe('classifyTurnFailure: rate limits and overload', () => {
  function expectRateLimited(e: AnswerError): RateLimitedError {
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e).not.toBeInstanceOf(FatalAnswererError);
    expect(e.kind).toBe('rate_limited');
    expect(e.retryable).toBe(true);
    expect((e as RateLimitedError).rateLimited).toBe(true);
    return e as RateLimitedError;
  }

  it('a 429 retry status', () => {
    const e = expectRateLimited(classifyTurnFailure({ retryStatus: 429 }, undefined));
    expect(e.message).toContain('rate limiting');
    expect(e.message).toContain('429');
  });

  it('a 529 retry status', () => {
    const e = expectRateLimited(classifyTurnFailure({ retryStatus: 529 }, undefined));
    expect(e.message).toContain('overloaded');
    expect(e.message).toContain('529');
  });

  it("carries Claude Code's retry delay (the API's retry-after, when it sent one) as the least wait", () => {
    expect(expectRateLimited(classifyTurnFailure({ retryStatus: 429, retryDelayMs: 30_000 }, undefined)).retryAfterMs).toBe(30_000);
    expect(expectRateLimited(classifyTurnFailure({ retryStatus: 529 }, undefined)).retryAfterMs).toBeUndefined();
  });

  it('a rate_limit assistant error', () => {
    expect(expectRateLimited(classifyTurnFailure({ assistantError: 'rate_limit' }, undefined)).message).toContain('rate limiting');
  });

  it('an overloaded assistant error', () => {
    expect(expectRateLimited(classifyTurnFailure({ assistantError: 'overloaded' }, undefined)).message).toContain('overloaded');
  });

  it("a 429 or 529 in the result's api_error_status", () => {
    expectRateLimited(classifyTurnFailure({}, success({ api_error_status: 429 })));
    expectRateLimited(classifyTurnFailure({}, success({ api_error_status: 529 })));
  });

  it('wins over a timeout', () => {
    expectRateLimited(classifyTurnFailure({ retryStatus: 429, timedOut: true }, undefined));
    expectRateLimited(classifyTurnFailure({ assistantError: 'overloaded', timedOut: true }, undefined));
  });

  it('other statuses are not rate limits', () => {
    for (const status of [400, 404, 428, 430, 500, 502, 503, 528]) {
      const e = classifyTurnFailure({ retryStatus: status }, undefined);
      expect(e).not.toBeInstanceOf(RateLimitedError);
      expect(e).not.toBeInstanceOf(FatalAnswererError);
      expect(e.kind).toBe('claude_error');
    }
  });
});

describe('classifyTurnFailure: timeouts', () => {
  it('a timed-out turn is a retryable turn_timeout', () => {
    const e = classifyTurnFailure({ timedOut: true }, undefined);
    expect(e).toBeInstanceOf(AnswerError);
    expect(e).not.toBeInstanceOf(RateLimitedError);
    expect(e).not.toBeInstanceOf(FatalAnswererError);
    expect(e.kind).toBe('turn_timeout');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/turn-timeout/);
  });

  it('is a timeout even when the result carries errors or a server error', () => {
    expect(classifyTurnFailure({ timedOut: true }, errorResult('error_during_execution', ['aborted'])).kind).toBe('turn_timeout');
    expect(classifyTurnFailure({ timedOut: true, retryStatus: 500 }, undefined).kind).toBe('turn_timeout');
  });

  it('timedOut false is not a timeout', () => {
    expect(classifyTurnFailure({ timedOut: false }, undefined).kind).toBe('claude_error');
  });
});

describe('classifyTurnFailure: other errors', () => {
  function expectClaudeError(e: AnswerError): void {
    expect(e).toBeInstanceOf(AnswerError);
    expect(e).not.toBeInstanceOf(RateLimitedError);
    expect(e).not.toBeInstanceOf(FatalAnswererError);
    expect(e.kind).toBe('claude_error');
    expect(e.retryable).toBe(true);
  }

  it("carries the error result's errors", () => {
    const e = classifyTurnFailure({}, errorResult('error_during_execution', ['tool crashed', 'stream closed']));
    expectClaudeError(e);
    expect(e.message).toBe('Claude Code ended the turn with an error: tool crashed; stream closed');
  });

  it('falls back to the subtype when the error result has no errors', () => {
    const e = classifyTurnFailure({}, errorResult('error_max_turns', []));
    expectClaudeError(e);
    expect(e.message).toBe('Claude Code ended the turn with an error: error_max_turns');
  });

  it("carries an is_error success result's text", () => {
    const e = classifyTurnFailure({}, success({ result: 'API Error: 500 Internal server error', api_error_status: 500 }));
    expectClaudeError(e);
    expect(e.message).toBe('Claude Code ended the turn with an error: API Error: 500 Internal server error');
  });

  it('falls back to the subtype for an is_error success result with no text', () => {
    expect(classifyTurnFailure({}, success({ result: '' })).message).toBe('Claude Code ended the turn with an error: success');
  });

  it('says so when there is no result', () => {
    const e = classifyTurnFailure({}, undefined);
    expectClaudeError(e);
    expect(e.message).toBe('Claude Code ended the turn with an error: no result');
  });

  it('a null api_error_status counts as no status', () => {
    expectClaudeError(classifyTurnFailure({}, success({ api_error_status: null, result: 'boom' })));
  });

  it('other assistant errors are plain claude errors', () => {
    for (const code of ['server_error', 'invalid_request', 'unknown', 'max_output_tokens']) {
      expectClaudeError(classifyTurnFailure({ assistantError: code }, undefined));
    }
  });

  it('cuts a long detail to 500 characters', () => {
    const long = 'x'.repeat(2000);
    const e = classifyTurnFailure({}, errorResult('error_during_execution', [long]));
    expect(e.message).toBe(`Claude Code ended the turn with an error: ${'x'.repeat(500)}`);
  });

  it('an error result with a rate limit in its errors text alone is not a rate limit', () => {
    // Only statuses and assistant error codes classify; free text is passed through.
    const e = classifyTurnFailure({}, errorResult('error_during_execution', ['429 rate_limit']));
    expectClaudeError(e);
    expect(e.message).toContain('429 rate_limit');
  });
});

describe('questionRefused: a refusal the credentials were not at fault for', () => {
  it('is a retryable question_refused failure that names the status, not what Claude Code printed', () => {
    const e = questionRefused(classifyTurnFailure({ assistantError: 'authentication_failed' }, success({ api_error_status: 403, result: 'Failed to authenticate. API Error: 403 {"error":"blocked by policy"}' })) as FatalAnswererError);
    expect(e).not.toBeInstanceOf(FatalAnswererError);
    expect(e).toMatchObject({ kind: 'question_refused', retryable: true, message: 'the Claude API refused the question (HTTP 403)' });
    expect(questionRefused(new FatalAnswererError('not_authenticated', 'the Claude API refused the credentials (HTTP 401)', 401)).message).toBe('the Claude API refused the question (HTTP 401)');
  });

  it('says how, when no status showed it', () => {
    expect(questionRefused(new FatalAnswererError('not_authenticated', 'Claude Code found no credentials it can use')).message).toBe('the Claude API refused the question as not authenticated');
  });
});
