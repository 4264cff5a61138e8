import type { AnswerJob } from '../shared/jobs.js';

export const SHARD_ID = 'autopoll_shard';

/** The response a query gets: PROTOCOL.md's fields first, then what autopoll adds. */
export function answerResponseBody(job: AnswerJob, responseTimeSec: number): Record<string, unknown> {
  const base = { type: 'response', query_id: job.queryId };
  const timing = { shard_id: SHARD_ID, llm_type: job.llmType, response_time_sec: responseTimeSec, attempts: job.attempts };
  const o = job.outcome;
  if (o.kind === 'error') {
    return { ...base, error: { kind: o.errorKind, message: o.message }, answer: failureLine(o.errorKind, o.message), sources: [], ...timing };
  }
  const usage = o.usage
    ? { input_tokens: o.usage.inputTokens, output_tokens: o.usage.outputTokens, cost_usd: o.usage.costUsd }
    : undefined;
  return { ...base, answer: o.answer, sources: o.sources, ...timing, model: o.model, session_id: o.sessionId, usage };
}

/** The error response for a query autopoll refused before asking anyone. */
export function rejectionResponseBody(queryId: string, reason: string): Record<string, unknown> {
  return {
    type: 'response',
    query_id: queryId,
    error: { kind: 'rejected', message: reason },
    answer: failureLine('rejected', reason),
    sources: [],
    shard_id: SHARD_ID,
  };
}

/** One line an asker can show as the answer text: that it failed, and why. */
export function failureLine(kind: string, message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `autopoll could not answer this query (${kind}): ${oneLine}`;
}
