import { z } from 'zod';

/** What an asker reads of a response body: PROTOCOL.md's fields, plus autopoll's error object. */
export interface ReadResponse {
  /** Undefined when the body has no answer text (not a response as PROTOCOL.md describes it). */
  answer: string | undefined;
  sources: string[];
  model: string | null;
  responseTimeSec: number | null;
  /** autopoll's error response: its kind and reason. */
  error: { kind: string; message: string } | undefined;
}

/**
 * A response row is input from another process: only the fields the asker reads are trusted, each
 * with a fallback, so a shard that writes less (the old one wrote errors as the answer) still reads.
 */
const ResponseSchema = z.object({
  answer: z.string().optional().catch(undefined),
  sources: z.array(z.string()).catch([]),
  model: z.string().nullable().catch(null).default(null),
  response_time_sec: z.number().nullable().catch(null).default(null),
  error: z.object({ kind: z.string(), message: z.string() }).optional().catch(undefined),
});

/** A response body as `autopoll ask` and `autopoll mcp` read it; each says for itself what a body without answer text is. */
export function readResponse(body: Record<string, unknown>): ReadResponse {
  const r = ResponseSchema.parse(body);
  return { answer: r.answer, sources: r.sources, model: r.model, responseTimeSec: r.response_time_sec, error: r.error };
}
