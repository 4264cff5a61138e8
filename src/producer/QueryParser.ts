import { z } from 'zod';

export const MAX_QUESTION_CHARS = 50_000;

export type ParsedMessage =
  | { ok: true; queryId: string; question: string; contextFile?: string }
  | { ok: false; reason: string; queryId?: string };

const QueryIdSchema = z.union([z.string().trim().min(1).max(200), z.number().int()]).transform(String);

const QuerySchema = z.object({
  type: z.literal('query'),
  query_id: QueryIdSchema,
  question: z
    .string({ error: (i) => (i.input === undefined ? 'the query has no "question"' : '"question" must be a string') })
    .refine((q) => q.trim().length > 0, '"question" is empty')
    .refine((q) => codePoints(q) <= MAX_QUESTION_CHARS, {
      message: `"question" is longer than ${MAX_QUESTION_CHARS} characters; shorten it or put the material in a context_file`,
    }),
  context_file: z
    .string({ error: '"context_file" must be a string (a path under the context root)' })
    .min(1, '"context_file" is empty; leave it out or name a file')
    .max(4096, '"context_file" is longer than 4096 characters')
    .optional()
    .nullable(),
});

/** Python's len(): code points, so an astral character counts once as it does for the bridge. */
function codePoints(text: string): number {
  let surrogatePairs = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        surrogatePairs++;
        i++;
      }
    }
  }
  return text.length - surrogatePairs;
}

/**
 * Decides what a message addressed to the shard is. Pure: no I/O, never throws. Anything that is
 * not a well-formed query comes back with a reason, and with the query_id when there was one so
 * that the asker can be told.
 */
export function parseInboxMessage(text: string): ParsedMessage {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the message is not JSON; send {"type": "query", "query_id": ..., "question": ...}' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, reason: 'the message is JSON but not an object; send {"type": "query", ...}' };
  }
  const obj = body as Record<string, unknown>;
  const idResult = QueryIdSchema.safeParse(obj.query_id);
  const queryId = idResult.success ? idResult.data : undefined;
  if (obj.type !== 'query') {
    const type = typeof obj.type === 'string' ? `"${obj.type.slice(0, 40)}"` : 'missing';
    const reason = `the message's type is ${type}, not "query"; autopoll answers only queries`;
    // A message of another type gets no response: with a query_id it would read as a second
    // answer to that query. One with no type but a question is a query that forgot to say so.
    return obj.type === undefined && 'question' in obj ? { ok: false, reason, queryId } : { ok: false, reason };
  }
  const parsed = QuerySchema.safeParse(obj);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((i) => (i.path[0] === 'query_id' ? 'the query has no usable "query_id" (a non-empty string)' : i.message))
      .join('; ');
    return { ok: false, reason, queryId };
  }
  const q = parsed.data;
  return { ok: true, queryId: q.query_id, question: q.question, ...(q.context_file ? { contextFile: q.context_file } : {}) };
}
