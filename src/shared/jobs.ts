import { z } from 'zod';

/** What the producer puts on the `questions` queue. Never a token: consumers need none. */
/**
 * The bridge file's identity (its autopoll_bridge row). Optional only for jobs made before bridge
 * identity, still in Redis at an upgrade: their ledger rows keep the old job ids, which guard them.
 */
const BridgeIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'a bridge id is 16 lowercase hex digits').optional();

export const QuestionJobSchema = z.object({
  bridgeId: BridgeIdSchema,
  messageId: z.number().int().positive(),
  conversationId: z.string().min(1),
  queryId: z.string().min(1),
  question: z.string().min(1),
  context: z
    .object({
      path: z.string(),
      text: z.string(),
      truncated: z.boolean(),
      /**
       * Set once the question is answered: the text was removed from the job (retention keeps
       * answered jobs for days), the file stays where it was.
       */
      dropped: z.literal(true).optional(),
    })
    .optional(),
  /** Runs handed back unspent (rate limits), which attemptsStarted counts but attempts do not. */
  deferrals: z.number().int().nonnegative().optional(),
  /** This round's rate-limit hand-backs: the backoff grows with `times`, --max-defer counts from `since` (ms since the epoch). */
  rateLimited: z.object({ since: z.number().int().nonnegative(), times: z.number().int().positive() }).optional(),
  /** This round's runs handed back unspent because their Claude Code session did not start (also in `deferrals`); bounded, see failureDecision.ts. */
  startFailures: z.number().int().nonnegative().optional(),
  /** Set by a replay: its real answer may follow an error response (once). */
  replay: z.boolean().optional(),
  /**
   * Starts spent by earlier rounds, each of which ended in an error response. A failed job run
   * again (a replay, or a retry from the board) counts its attempts afresh from here.
   */
  priorAttempts: z.number().int().nonnegative().optional(),
});
export type QuestionJob = z.infer<typeof QuestionJobSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
});

export const AnswerOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('answer'),
    answer: z.string(),
    sources: z.array(z.string()),
    model: z.string().optional(),
    sessionId: z.string().optional(),
    usage: UsageSchema.optional(),
  }),
  z.object({
    kind: z.literal('error'),
    errorKind: z.string().min(1),
    message: z.string(),
  }),
]);
export type AnswerOutcome = z.infer<typeof AnswerOutcomeSchema>;

/** What a consumer puts on the `answers` queue for the producer's answer writer. */
export const AnswerJobSchema = z.object({
  /** The question job's: the answer writer refuses an answer for another bridge file. */
  bridgeId: BridgeIdSchema,
  messageId: z.number().int().positive(),
  conversationId: z.string().min(1),
  queryId: z.string().min(1),
  questionJobId: z.string().min(1),
  llmType: z.string().min(1),
  attempts: z.number().int().positive(),
  replay: z.boolean().optional(),
  /** The question job's priorAttempts: each replay round gets answer job ids of its own. */
  round: z.number().int().nonnegative().optional(),
  /** The consumer redacted secrets out of the outcome (it travels redacted; the audit row says so). */
  redacted: z.boolean().optional(),
  outcome: AnswerOutcomeSchema,
});
export type AnswerJob = z.infer<typeof AnswerJobSchema>;

/** One line per zod issue, `path: message`, for errors a person reads. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
