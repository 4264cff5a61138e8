/**
 * The Claude benchmark's questions and how their answers are checked: the fake API answers each
 * request with the query id of the question it carries, so every answer names its question.
 */
import type { QuestionJob } from '../../src/shared/jobs.js';
import type { Responder } from '../../test/support/fakeAnthropic.js';

/** A question job, the way the producer makes one. */
export function question(i: number): QuestionJob {
  return {
    messageId: i + 1,
    conversationId: `bench-conv-${i % 4}`,
    queryId: `bq_${i}`,
    question: `Question ${i}: where is the retry policy for failed answers defined, and what backoff does it use?`,
  };
}

const QUERY_ID = /<question query_id="([^"]+)">/g;

/** The query ids of the questions a prompt carries, in order. */
export function queryIdsIn(text: string): string[] {
  return [...text.matchAll(QUERY_ID)].map((m) => m[1]!);
}

/** Answers every request with the query id of the last question it carries, so answers can be checked. */
export const echoQueryId: Responder = (req) => {
  const ids = queryIdsIn(req.lastUser);
  return { kind: 'text', text: `${answerMark(ids.at(-1) ?? 'nothing')} see the retry module (notes.md:3-4).` };
};

/** What the answer to `queryId` starts with. */
export const answerMark = (queryId: string): string => `Answer to ${queryId}:`;

export function answersItsQuestion(text: string, queryId: string): boolean {
  return text.includes(answerMark(queryId));
}
