import { describe, expect, it } from 'vitest';
import type { LedgerRow } from '../../src/bridge/Ledger.js';
import { replayLogLine } from '../../src/ops/replay/replayLog.js';
import { buildTrace } from '../../src/ops/trace/buildTrace.js';
import { formatTrace } from '../../src/ops/trace/formatTrace.js';
import type { AnswerJobFacts, BridgeFacts, QuestionJobFacts, RedisFacts } from '../../src/ops/trace/traceFacts.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const bridgeTime = (ms: number) => new Date(T0 + ms).toISOString().slice(0, -1).concat('000');

function ledger(extra: Partial<LedgerRow>): LedgerRow {
  return {
    message_id: 7, conversation_id: 'conv_1', query_id: 'q_1', state: 'answered', attempts: 1, job_id: 'm-b-7',
    taken_at: bridgeTime(10), finished_at: bridgeTime(900), response_message_id: 9, error_kind: null, last_error: null, updated_at: bridgeTime(900), ...extra,
  };
}

function bridge(row: Partial<LedgerRow> | undefined, responses: BridgeFacts['responses'] = [{ id: 9, at: T0 + 900 }]): BridgeFacts {
  return { question: { id: 7, conversationId: 'conv_1', at: T0, queryId: 'q_1' }, ledger: row && ledger(row), responses };
}

function questionJob(extra: Partial<QuestionJobFacts> = {}): QuestionJobFacts {
  return {
    id: 'm-b-7', state: 'completed', timestamp: T0 + 20, processedOn: T0 + 30, finishedOn: T0 + 800, attemptsMade: 0, attemptsStarted: 1,
    stacktrace: [], processedBy: 'host-1', returnvalue: { sessionId: 'sess-1', sessionPid: 42, model: 'haiku' }, data: {}, logs: [], ...extra,
  };
}

function answerJob(kind: 'answer' | 'error', round: number, at: number, data: Record<string, unknown>): AnswerJobFacts {
  return { id: `${kind[0]}-m-b-7${round ? `-r${round}` : ''}`, kind, round, state: 'completed', timestamp: T0 + at, data };
}

const answered = answerJob('answer', 0, 790, { attempts: 1, outcome: { kind: 'answer', model: 'haiku', sessionId: 'sess-1', usage: { inputTokens: 12, outputTokens: 34, costUsd: 0.000123 } } });
const reached = (questionJobFacts: QuestionJobFacts | undefined, answerJobs: AnswerJobFacts[]): RedisFacts => ({ reached: true, questionJob: questionJobFacts, answerJobs });
const stages = (r: ReturnType<typeof buildTrace>) => r.events.map((e) => e.stage);

describe('buildTrace', () => {
  it('an answered question: every stage in time order, with the time since the one before, who answered and what it cost', () => {
    const t = buildTrace(bridge({}), reached(questionJob(), [answered]));
    expect(t.events).toEqual([
      { stage: 'asked', at: '2026-12-07T10:00:00.000Z', afterMs: null },
      { stage: 'taken', at: '2026-12-07T10:00:00.010Z', afterMs: 10 },
      { stage: 'enqueued', at: '2026-12-07T10:00:00.020Z', afterMs: 10 },
      { stage: 'started', at: '2026-12-07T10:00:00.030Z', afterMs: 10 },
      { stage: 'answered', at: '2026-12-07T10:00:00.800Z', afterMs: 770 },
      { stage: 'written', at: '2026-12-07T10:00:00.900Z', afterMs: 100 },
    ]);
    expect(t).toMatchObject({ state: 'answered', jobId: 'm-b-7', totalMs: 900, consumer: 'host-1', attempts: [{ round: 0, attempt: 1 }] });
    expect(t.session).toEqual({ id: 'sess-1', pid: 42, model: 'haiku' });
    expect(t.usage).toEqual({ inputTokens: 12, outputTokens: 34, costUsd: 0.000123 });
  });

  it('a failed round, a replay that retried the job, then its answer: each try with its error, the replay dated by its log line', () => {
    const logs = ['attempt 1 failed (turn_timeout): too slow; retry in 1000 ms', replayLogLine(T0 + 5000), 'attempt 1 failed (claude_error): boom; retry in 1000 ms'];
    const job = questionJob({ logs, processedOn: T0 + 5010, finishedOn: T0 + 6000, attemptsStarted: 4, data: { replay: true, priorAttempts: 2 } });
    const error = answerJob('error', 0, 2000, { attempts: 2, outcome: { kind: 'error', errorKind: 'turn_timeout', message: 'too slow again' } });
    const late = answerJob('answer', 2, 5990, { attempts: 2, replay: true, round: 2, outcome: { kind: 'answer', sessionId: 's2' } });
    const withRows = buildTrace(bridge({}, [{ id: 8, at: T0 + 2100, errorKind: 'turn_timeout' }, { id: 9, at: T0 + 6100 }]), reached(job, [late, error]));
    expect(stages(withRows)).toEqual(['asked', 'taken', 'enqueued', 'failed', 'error_written', 'replayed', 'started', 'answered', 'written']);
    expect(withRows.attempts).toEqual([
      { round: 0, attempt: 1, error: 'turn_timeout: too slow' },
      { round: 0, attempt: 2, error: 'turn_timeout: too slow again' },
      { round: 1, attempt: 1, error: 'claude_error: boom' },
      { round: 1, attempt: 2 },
    ]);
    // Without its response row, the ledger's finished_at dates the write.
    expect(stages(buildTrace(bridge({}, []), reached(job, [late, error])))).toContain('written');
  });

  it('a job a replay rebuilt: its add is the replay, not the enqueue', () => {
    const job = questionJob({ timestamp: T0 + 3000, processedOn: T0 + 3001, finishedOn: T0 + 3002, data: { replay: true } });
    expect(stages(buildTrace(bridge({}, [{ id: 9, at: T0 + 3003 }]), reached(job, [])))).toEqual(['asked', 'taken', 'replayed', 'started', 'answered', 'written']);
  });

  it('a question rejected at take: its error response, written in the take, does not come before the take', () => {
    const t = buildTrace(bridge({ state: 'rejected', job_id: null, attempts: 0, taken_at: bridgeTime(11), error_kind: 'rejected', last_error: 'no question' }, [{ id: 8, at: T0 + 10.5, errorKind: 'rejected' }]), reached(undefined, []));
    expect(stages(t)).toEqual(['asked', 'taken', 'error_written']);
    expect(t).toMatchObject({ state: 'rejected', attempts: [], lastError: { kind: 'rejected', message: 'no question' } });
  });

  it('without Redis: the bridge and the ledger, and why Redis is missing', () => {
    const t = buildTrace(bridge({ state: 'failed', attempts: 5, error_kind: 'claude_error', last_error: 'boom' }, [{ id: 9, at: T0 + 900, errorKind: 'claude_error' }]), { reached: false, error: 'Redis at 127.0.0.1:1 is not reachable' });
    expect(stages(t)).toEqual(['asked', 'taken', 'error_written']);
    expect(t.attempts).toEqual([{ round: 0, attempt: 5, error: 'claude_error: boom' }]);
    expect(formatTrace(t)).toContain('Redis was not reached (Redis at 127.0.0.1:1 is not reachable)');
  });

  it('a question not taken yet has no state', () => {
    const t = buildTrace(bridge(undefined, []), reached(undefined, []));
    expect(t).toMatchObject({ state: null, jobId: null, attempts: [] });
    expect(stages(t)).toEqual(['asked']);
    expect(formatTrace(t)).toContain('state not taken yet');
  });
});

describe('formatTrace', () => {
  it('prints each stage with its time and the time since the stage before; Redis text cannot forge lines', () => {
    const job = questionJob({ logs: ['evil\u001b[2J\nline'], processedBy: 'host\n  written 1999' });
    const text = formatTrace(buildTrace(bridge({}), reached(job, [answered])));
    expect(text).toMatch(/^ {2}taken {9}2026-12-07T10:00:00\.010Z {2}\+10 ms$/m);
    expect(text).toContain('  total         900 ms');
    expect(text).toContain('answered by consumer host   written 1999, session sess-1 (pid 42), model haiku');
    expect(text).toContain('tokens 12 in / 34 out, cost $0.000123');
    expect(text).toContain('    evil [2J line');
    expect(text.split('\n').filter((l) => l.startsWith('  written'))).toHaveLength(1);
  });

  it("the bridge's conversation id cannot forge lines or send escapes either", () => {
    const facts = bridge({});
    facts.question.conversationId = 'conv\u001b]0;pwned\u0007\n  written 1999';
    const text = formatTrace(buildTrace(facts, reached(questionJob(), [answered])));
    expect(text).not.toContain('\u001b');
    expect(text.split('\n')[0]).toBe('query q_1  message 7  conversation conv ]0;pwned    written 1999');
  });
});
