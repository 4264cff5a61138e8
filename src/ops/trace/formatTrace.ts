import { formatDuration } from '../../shared/duration.js';
import { printableLine } from '../../shared/printable.js';
import type { Trace } from './buildTrace.js';

/** Redis and bridge text is another process's: one plain line each, capped. */
const line = (text: string, max = 300) => printableLine(text, max);

function ms(value: number): string {
  if (value < 1000) return `${value} ms`;
  return value < 60_000 ? `${(value / 1000).toFixed(1)} s` : formatDuration(value / 1000, 'words');
}

/** One question's timeline for a person: a time and the time since the stage before, per stage. */
export function formatTrace(t: Trace): string {
  const out: string[] = [];
  out.push(`query ${t.queryId === null ? '(none)' : line(t.queryId, 120)}  message ${t.messageId}  conversation ${line(t.conversationId, 120)}`);
  out.push(`  state ${t.state ?? 'not taken yet (no ledger row)'}${t.jobId ? `  job ${t.jobId}` : ''}`);
  if (!t.redis.reached) out.push(`  Redis was not reached (${line(t.redis.error)}): the bridge's side only`);
  for (const e of t.events) out.push(`  ${e.stage.padEnd(13)} ${e.at}${e.afterMs === null ? '' : `  +${ms(e.afterMs)}`}`);
  if (t.totalMs !== null && t.events.length > 1) out.push(`  ${'total'.padEnd(13)} ${ms(t.totalMs)}`);
  for (const a of t.attempts) out.push(`  attempt ${a.attempt}${a.round ? ` (replay ${a.round})` : ''}: ${a.error === undefined ? 'answered' : `failed: ${line(a.error)}`}`);
  if (t.lastError?.message) out.push(`  last error (ledger): ${line(`${t.lastError.kind ?? ''}: ${t.lastError.message}`)}`);
  const by = [
    t.consumer ? `consumer ${line(t.consumer, 120)}` : '',
    t.session?.id ? `session ${line(t.session.id, 80)}${t.session.pid ? ` (pid ${t.session.pid})` : ''}` : '',
    t.session?.model ? `model ${line(t.session.model, 80)}` : '',
  ].filter(Boolean);
  if (by.length) out.push(`  answered by ${by.join(', ')}`);
  if (t.usage) {
    const u = t.usage;
    out.push(`  tokens ${u.inputTokens ?? '?'} in / ${u.outputTokens ?? '?'} out${u.costUsd === null ? '' : `, cost $${u.costUsd}`}`);
  }
  if (t.redis.reached) {
    const q = t.redis.questionJob;
    out.push(q
      ? `  question job ${q.id}: ${q.state}, ${q.attemptsSpent} attempt(s) this round (BullMQ: ${q.attemptsStarted} started, ${q.attemptsMade} made)${q.failedReason ? `; failed: ${line(q.failedReason)}` : ''}`
      : `  question job: not in Redis (never enqueued, or removed by retention)`);
    for (const j of t.redis.answerJobs) out.push(`  ${j.kind} job ${j.id}: ${j.state}`);
  }
  if (t.logs.length) out.push('  job log:', ...t.logs.map((l) => `    ${line(l)}`));
  return `${out.join('\n')}\n`;
}
