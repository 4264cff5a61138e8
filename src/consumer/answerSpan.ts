import type { SpanAttributes } from '../shared/tracing/telemetry.js';
import type { AnswerResult } from './Answerer.js';

/**
 * What a question's answer span records of the turn: the model, the session, the tokens and cost.
 * Never the answer, the question or a conversation's token.
 */
export function answerAttributes(result: AnswerResult): SpanAttributes {
  return {
    'gen_ai.response.model': result.model,
    'gen_ai.conversation.id': result.sessionId,
    'gen_ai.usage.input_tokens': result.usage?.inputTokens,
    'gen_ai.usage.output_tokens': result.usage?.outputTokens,
    'autopoll.cost_usd': result.usage?.costUsd,
    'autopoll.sources': result.sources.length,
  };
}
