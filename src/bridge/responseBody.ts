import type { AnswerJob } from '../shared/jobs.js';
import { MAX_MESSAGE_CHARS } from './limits.js';
import { pyJsonDumps } from './pyjson.js';
import { redactText, redactValues } from '../shared/redact.js';

export const SHARD_ID = 'autopoll_shard';

declare const READY: unique symbol;

/**
 * A response as BridgeWriter stores it, unchanged: every string redacted (redactText), the answer
 * then cut to fit. Redacting before cutting is what keeps a secret that straddles the cut from
 * leaving its first part behind, and measuring the redacted text is what keeps the row within
 * MAX_MESSAGE_CHARS (a replacement can be longer than what it replaces).
 */
export interface ReadyResponse {
  /** Only readyResponse makes one: BridgeWriter stores it without redacting again. */
  readonly [READY]: true;
  readonly body: Record<string, unknown>;
  /** Something in it was redacted, as the bridge's audit row reports. */
  readonly redacted: boolean;
}

/** The response a query gets: PROTOCOL.md's fields first, then what autopoll adds. */
export function answerResponseBody(job: AnswerJob, responseTimeSec: number): ReadyResponse {
  const base = { type: 'response', query_id: job.queryId };
  const timing = { shard_id: SHARD_ID, llm_type: job.llmType, response_time_sec: responseTimeSec, attempts: job.attempts };
  const o = job.outcome;
  if (o.kind === 'error') {
    return readyResponse({ ...base, error: { kind: o.errorKind, message: o.message }, answer: failureLine(o.errorKind, o.message), sources: [], ...timing });
  }
  const usage = o.usage
    ? { input_tokens: o.usage.inputTokens, output_tokens: o.usage.outputTokens, cost_usd: o.usage.costUsd }
    : undefined;
  return readyResponse({ ...base, answer: o.answer, sources: o.sources, ...timing, model: o.model, session_id: o.sessionId, usage });
}

/** `body` redacted, then fitted (see ReadyResponse). */
export function readyResponse(body: Record<string, unknown> & { answer: string }): ReadyResponse {
  const { value, redacted } = redactValues(body);
  const fitted = fitAnswer(value);
  return { body: fitted.body, redacted: redacted || fitted.redacted } as unknown as ReadyResponse;
}

/**
 * The (redacted) body with its answer cut, and a note saying so, when the message the bridge would
 * store (its Python JSON, non-ASCII escaped) would be longer than MAX_MESSAGE_CHARS. The longest
 * prefix that fits, never half of a surrogate pair. The cut text is redacted again and measured so:
 * the note can complete a rule's match ("password" at the end of the prefix, then the note).
 */
function fitAnswer<T extends { answer: string }>(body: T): { body: T; redacted: boolean } {
  const fits = (answer: string) => pyJsonDumps({ ...body, answer }).length <= MAX_MESSAGE_CHARS;
  if (fits(body.answer)) return { body, redacted: false };
  const cut = (n: number) => {
    const end = /[\uD800-\uDBFF]/.test(body.answer.charAt(n - 1)) ? n - 1 : n;
    return `${body.answer.slice(0, end)}\n\n[autopoll cut this answer after ${end} of its ${body.answer.length} characters: bridge messages hold at most ${MAX_MESSAGE_CHARS} characters]`;
  };
  let [lo, hi] = [0, body.answer.length];
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(redactText(cut(mid)))) lo = mid;
    else hi = mid - 1;
  }
  const answer = redactText(cut(lo));
  return { body: { ...body, answer }, redacted: answer !== cut(lo) };
}

/** The error response for a query autopoll refused before asking anyone. */
export function rejectionResponseBody(queryId: string, reason: string): ReadyResponse {
  return readyResponse({
    type: 'response',
    query_id: queryId,
    error: { kind: 'rejected', message: reason },
    answer: failureLine('rejected', reason),
    sources: [],
    shard_id: SHARD_ID,
  });
}

/**
 * One line an asker can show as the answer text: that it failed, and why. Redacted before it is
 * cut (a secret across the cut would leave its start), after the whitespace is joined (that can
 * complete a rule's match).
 */
export function failureLine(kind: string, message: string): string {
  const oneLine = redactText(message.replace(/\s+/g, ' ').trim()).slice(0, 300);
  return `autopoll could not answer this query (${kind}): ${oneLine}`;
}
