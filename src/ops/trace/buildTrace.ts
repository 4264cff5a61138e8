import type { LedgerState } from '../../bridge/Ledger.js';
import { parseBridgeTimestamp } from '../../bridge/timestamp.js';
import { attemptsSpent } from '../../shared/attempts.js';
import { replayLogTime } from '../replay/replayLog.js';
import type { AnswerJobFacts, BridgeFacts, QuestionJobFacts, RedisFacts } from './traceFacts.js';

/** In the order a question meets them: equal times keep this order. */
export const STAGES = ['asked', 'taken', 'enqueued', 'replayed', 'started', 'failed', 'error_written', 'answered', 'written'] as const;
export type Stage = (typeof STAGES)[number];

export interface TraceEvent {
  stage: Stage;
  /** ISO UTC. */
  at: string;
  /** Since the event before it; null for the first. */
  afterMs: number | null;
}

export interface Attempt {
  /** 0 for the first round, then one more per replay. */
  round: number;
  attempt: number;
  error?: string;
}

export interface Trace {
  queryId: string | null;
  messageId: number;
  conversationId: string;
  /** The ledger's; null while the producer has not taken the question. */
  state: LedgerState | null;
  jobId: string | null;
  attempts: Attempt[];
  events: TraceEvent[];
  /** From the first event to the last. */
  totalMs: number | null;
  /** The worker name of the consumer that ran the question job last (BullMQ's processedBy). */
  consumer: string | null;
  session: { id: string | null; pid: number | null; model: string | null } | null;
  usage: { inputTokens: number | null; outputTokens: number | null; costUsd: number | null } | null;
  lastError: { kind: string | null; message: string | null } | null;
  redis:
    | { reached: true; questionJob: QuestionJobSummary | null; answerJobs: Array<{ id: string; kind: 'answer' | 'error'; round: number; state: string }> }
    | { reached: false; error: string };
  /** The question job's log, as the consumer and replay wrote it. */
  logs: string[];
}

export interface QuestionJobSummary {
  id: string;
  state: string;
  attemptsMade: number;
  attemptsStarted: number;
  /** This round's attempts as the consumer counts them (shared/attempts.ts: starts less hand-backs and earlier rounds). */
  attemptsSpent: number;
  failedReason: string | null;
  stacktrace: string[];
}

const RETRY_LOG = /^attempt (\d+) failed \(([^)]*)\): (.*); retry in \d+ ms$/;

/** One question's life, from what the bridge and Redis hold of it. */
export function buildTrace(bridge: BridgeFacts, redis: RedisFacts): Trace {
  const { question, ledger } = bridge;
  const job = redis.reached ? redis.questionJob : undefined;
  const closing = redis.reached ? [...redis.answerJobs].sort((a, b) => a.round - b.round || a.timestamp - b.timestamp) : [];
  const events = timeline(bridge, job, closing);
  const answer = closing.filter((j) => j.kind === 'answer').pop();
  const outcome = record(record(answer?.data).outcome);
  const returned = record(job?.returnvalue);
  const usage = record(outcome.usage);
  const first = events[0];
  const last = events[events.length - 1];
  return {
    queryId: question.queryId,
    messageId: question.id,
    conversationId: question.conversationId,
    state: ledger?.state ?? null,
    jobId: ledger?.job_id ?? job?.id ?? null,
    attempts: attempts(bridge, job, closing),
    events,
    totalMs: first && last ? Date.parse(last.at) - Date.parse(first.at) : null,
    consumer: job?.processedBy ?? null,
    session: answer || job?.returnvalue
      ? { id: text(outcome.sessionId) ?? text(returned.sessionId), pid: num(returned.sessionPid), model: text(outcome.model) ?? text(returned.model) }
      : null,
    usage: outcome.usage ? { inputTokens: num(usage.inputTokens), outputTokens: num(usage.outputTokens), costUsd: num(usage.costUsd) } : null,
    lastError: ledger?.error_kind || ledger?.last_error ? { kind: ledger.error_kind, message: ledger.last_error } : null,
    redis: redis.reached
      ? { reached: true, questionJob: job ? summary(job) : null, answerJobs: closing.map(({ id, kind, round, state }) => ({ id, kind, round, state })) }
      : { reached: false, error: redis.error },
    logs: job?.logs ?? [],
  };
}

function timeline(bridge: BridgeFacts, job: QuestionJobFacts | undefined, closing: AnswerJobFacts[]): TraceEvent[] {
  const raw: Array<{ stage: Stage; at: number | undefined }> = [
    { stage: 'asked', at: bridge.question.at },
    { stage: 'taken', at: takenAt(bridge) },
  ];
  const replays = (job?.logs ?? []).map(replayLogTime).filter((at) => at !== undefined);
  if (job) {
    // A replay that rebuilt the job (the old one was gone) added it anew: its add is the replay.
    const rebuilt = record(job.data).replay === true && record(job.data).priorAttempts === undefined;
    if (!rebuilt) raw.push({ stage: 'enqueued', at: job.timestamp });
    else if (!replays.length) raw.push({ stage: 'replayed', at: job.timestamp });
    raw.push({ stage: 'started', at: job.processedOn });
    if (job.state === 'completed') raw.push({ stage: 'answered', at: job.finishedOn });
    if (job.state === 'failed' && !closing.some((j) => j.kind === 'error')) raw.push({ stage: 'failed', at: job.finishedOn });
  }
  raw.push(...replays.map((at) => ({ stage: 'replayed' as const, at })));
  for (const j of closing) {
    if (j.kind === 'error') raw.push({ stage: 'failed', at: j.timestamp });
    else if (job?.state !== 'completed') raw.push({ stage: 'answered', at: j.timestamp });
  }
  for (const r of bridge.responses) raw.push({ stage: r.errorKind === undefined ? 'written' : 'error_written', at: r.at });
  if (bridge.ledger?.state === 'answered' && !bridge.responses.some((r) => r.errorKind === undefined)) {
    raw.push({ stage: 'written', at: bridgeMs(bridge.ledger.finished_at) });
  }
  const known = raw.filter((e): e is { stage: Stage; at: number } => e.at !== undefined && Number.isFinite(e.at));
  known.sort((a, b) => a.at - b.at || STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage));
  return known.map((e, i) => ({ stage: e.stage, at: new Date(e.at).toISOString(), afterMs: i === 0 ? null : Math.round(e.at - known[i - 1]!.at) }));
}

/**
 * The ledger's taken_at. A rejected question's error response is written in the take's own
 * transaction, before its ledger row: the take is dated from its first write.
 */
function takenAt({ ledger, responses }: BridgeFacts): number | undefined {
  const taken = ledger ? bridgeMs(ledger.taken_at) : undefined;
  const rejection = ledger?.state === 'rejected' ? responses[0]?.at : undefined;
  return taken !== undefined && rejection !== undefined ? Math.min(taken, rejection) : taken;
}

/**
 * Each round's failed tries (from the job's log, which replays split into rounds) and how the round
 * ended (its error or answer job). Without the jobs, the ledger's last word.
 */
function attempts(bridge: BridgeFacts, job: QuestionJobFacts | undefined, closing: AnswerJobFacts[]): Attempt[] {
  const out: Attempt[] = [];
  let round = 0;
  for (const line of job?.logs ?? []) {
    if (replayLogTime(line) !== undefined) round++;
    const m = RETRY_LOG.exec(line);
    if (m) out.push({ round, attempt: Number(m[1]), error: `${m[2]}: ${m[3]}` });
  }
  closing.forEach((j, i) => {
    const data = record(j.data);
    const outcome = record(data.outcome);
    const attempt = num(data.attempts) ?? 1;
    if (out.some((a) => a.round === i && a.attempt === attempt)) return;
    out.push(j.kind === 'error' ? { round: i, attempt, error: `${text(outcome.errorKind) ?? 'error'}: ${text(outcome.message) ?? ''}` } : { round: i, attempt });
  });
  if (job?.state === 'failed' && !closing.some((j) => j.kind === 'error')) {
    out.push({ round, attempt: attemptsSpent(job), error: job.failedReason ?? 'failed' });
  }
  const ledger = bridge.ledger;
  if (!out.length && ledger && (ledger.state === 'answered' || ledger.state === 'failed')) {
    out.push(ledger.state === 'answered' ? { round: 0, attempt: ledger.attempts } : { round: 0, attempt: ledger.attempts, error: `${ledger.error_kind ?? 'error'}: ${ledger.last_error ?? ''}` });
  }
  return out.sort((a, b) => a.round - b.round || a.attempt - b.attempt);
}

function summary(job: QuestionJobFacts): QuestionJobSummary {
  return {
    id: job.id,
    state: job.state,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    attemptsSpent: job.attemptsStarted > 0 ? attemptsSpent(job) : 0,
    failedReason: job.failedReason ?? null,
    stacktrace: job.stacktrace,
  };
}

/** A bridge timestamp (naive UTC, microseconds) in ms. */
export function bridgeMs(text: string | null): number | undefined {
  const micros = text ? parseBridgeTimestamp(text) : undefined;
  return micros === undefined ? undefined : micros / 1000;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
