/** Queue names and job ids shared by the producer and the consumers. */
export const QUESTIONS_QUEUE = 'questions';
export const ANSWERS_QUEUE = 'answers';

/** BullMQ ids must not contain ':' nor be all digits; derived from the bridge message id. */
export function questionJobId(messageId: number): string {
  return `m-${messageId}`;
}

/** The answer for a question job. Distinct ids for answers and errors let a replay's real answer through. */
export function answerJobId(questionJobId: string, kind: 'answer' | 'error'): string {
  return `${kind === 'answer' ? 'a' : 'e'}-${questionJobId}`;
}
