import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutopollMetrics } from '../../src/board/metrics.js';
import { AnswerError, FatalAnswererError } from '../../src/consumer/Answerer.js';
import { PROBE_PROMPT } from '../../src/consumer/claude/credentialProbe.js';
import type { ClaudeAnswerer, ClaudeAnswererOptions } from '../../src/consumer/ClaudeAnswerer.js';
import type { QuestionJob } from '../../src/shared/jobs.js';
import { BridgeFixture, type Conversation } from '../support/bridge.js';
import { testClaudeAnswerer } from '../support/claudeEnv.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { capturingLogger, InProcessPipeline, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

describe('Claude Code answerer: persistent sessions against a fake Anthropic API', () => {
  let api: FakeAnthropic;

  beforeAll(async () => {
    api = await new FakeAnthropic().start();
  });
  afterAll(async () => {
    await api.stop();
  });

  const answerer = (extra: Partial<ClaudeAnswererOptions> = {}) => testClaudeAnswerer(api, extra);

  async function pipelineWith(a: ClaudeAnswerer, sessions: number, extra: { attempts?: number } = {}): Promise<{ bridge: BridgeFixture; conv: Conversation; pipeline: InProcessPipeline }> {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }, { answerer: a, concurrency: sessions, attempts: extra.attempts ?? 3, backoffMs: 100 }).start();
    return { bridge, conv, pipeline };
  }

  it('an answer longer than a bridge message holds reaches the bridge cut, with a note, in one row of at most 50,000 characters', async () => {
    const long = `${'é'.repeat(5_000)}${'x'.repeat(60_000)}`;
    api.responder = () => ({ kind: 'text', text: long });
    const a = answerer({ sessions: 1 });
    const { bridge, conv, pipeline } = await pipelineWith(a, 1);
    try {
      bridge.ask(conv.id, 'q_long', 'Tell me everything.');
      await waitFor('the answer', () => bridge.responses(conv.id).length === 1, 60_000, 100);
      const [row] = bridge.responses(conv.id);
      expect(row!.message.length).toBeLessThanOrEqual(50_000);
      expect(row!.body.error).toBeUndefined();
      expect(String(row!.body.answer)).toMatch(new RegExp(`^é{5000}x+\n\n\\[autopoll cut this answer after \\d+ of its ${long.length} characters: bridge messages hold at most 50000 characters\\]$`));
    } finally {
      await pipeline.close();
      bridge.close();
    }
  });

  it('answers 50 questions through 2 sessions: every one answered, at most 2 session ids', async () => {
    api.responder = echoResponder;
    const a = answerer();
    const { bridge, conv, pipeline } = await pipelineWith(a, 2);
    try {
      for (let i = 0; i < 50; i++) bridge.ask(conv.id, `q_${i}`, `What is ${i}?`);
      await waitFor('50 answers', () => bridge.responses(conv.id).length >= 50, 120_000, 100);
      const bodies = bridge.responses(conv.id).map((r) => r.body);
      expect(new Set(bodies.map((b) => b.query_id)).size).toBe(50);
      for (const b of bodies) {
        expect(b.error).toBeUndefined();
        expect(b.llm_type).toBe('claude_code');
        expect(String(b.answer)).toMatch(/^Fake answer\. Asked: /);
        expect(String(b.answer)).toContain(`What is ${String(b.query_id).slice(2)}?`);
        expect(b.sources).toEqual(['notes.md:3-4']);
        expect(typeof b.model).toBe('string');
        expect(b.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: 20, cost_usd: expect.any(Number) });
      }
      const sessionIds = new Set(bodies.map((b) => b.session_id));
      expect(sessionIds.size).toBeLessThanOrEqual(2);
      expect([...sessionIds].every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    } finally {
      await pipeline.close();
      bridge.close();
    }
  });

  it('a session process killed mid-turn is replaced and its question still answered', async () => {
    api.responder = echoResponder;
    api.latencyMs = 1500;
    const a = answerer();
    const { bridge, conv, pipeline } = await pipelineWith(a, 2);
    try {
      const pidsBefore = a.pool.pids();
      expect(pidsBefore).toHaveLength(2);
      bridge.ask(conv.id, 'q_kill', 'about to lose my session');
      await waitFor('request reached the API', () => api.messageRequests.some((r) => r.lastUser.includes('q_kill')));
      for (const pid of pidsBefore) process.kill(pid, 'SIGKILL');
      api.latencyMs = 0;
      await waitFor('answer', () => bridge.responses(conv.id).length === 1, 60_000, 100);
      const body = bridge.responses(conv.id)[0]!.body;
      expect(body).toMatchObject({ query_id: 'q_kill', attempts: 2 });
      expect(body.error).toBeUndefined();
      await waitFor('pool refilled', () => a.pool.pids().length === 2 && a.pool.pids().every((p) => !pidsBefore.includes(p)), 30_000);
    } finally {
      api.latencyMs = 0;
      await pipeline.close();
      bridge.close();
    }
  });

  it('a reply that never comes hits the turn timeout; the question is answered on retry', async () => {
    api.responder = (req) => (req.lastUser.includes('q_hang') && api.messageRequests.filter((r) => r.lastUser.includes('q_hang')).length === 1 ? { kind: 'hang' } : echoResponder(req, 0));
    const a = answerer({ turnTimeoutSec: 2 });
    const { bridge, conv, pipeline } = await pipelineWith(a, 1);
    const metrics = new AutopollMetrics();
    metrics.watchProducer(pipeline.producer);
    metrics.watchAnswers(pipeline.consumer.answerEvents);
    metrics.watchSessions(a.sessionEvents);
    const values = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;
    const total = async (name: string) => (await values(name)).reduce((sum, v) => sum + v.value, 0);
    try {
      const started = Date.now();
      const id = bridge.ask(conv.id, 'q_hang', 'will the first reply ever come?');
      await waitFor('answer', () => bridge.responses(conv.id).length === 1, 60_000, 100);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      expect(bridge.responses(conv.id)[0]!.body).toMatchObject({ query_id: 'q_hang', attempts: 2 });
      const job = await pipeline.producer.questions.getJob(bridge.jobId(id));
      const { logs } = await pipeline.producer.questions.getJobLogs(job!.id!);
      expect(logs.some((l) => /attempt 1 failed \((turn_timeout|session_crashed)\)/.test(l))).toBe(true);
      expect(logs.some((l) => /^session \S+ \(pid \d+, slot 0, turn \d+\)$/.test(l))).toBe(true);
      const done = await pipeline.producer.questions.getJob(bridge.jobId(id));
      // The retry goes to the warm session, not to slot 0 while its replacement starts.
      expect(done!.progress).toMatchObject({ attempt: 2, stage: 'asking', slot: 1 });
      expect(done!.returnvalue).toMatchObject({ sessionId: expect.any(String), sessionPid: expect.any(Number), sources: ['notes.md:3-4'] });
      // The metrics followed it: one failed try (not final), one answer, its tokens and cost.
      const failures = await values('autopoll_attempt_failures_total');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ value: 1, labels: { final: 'false' } });
      expect(await total('autopoll_turn_timeouts_total')).toBe(failures[0]!.labels.kind === 'turn_timeout' ? 1 : 0);
      expect(await total('autopoll_questions_answered_total')).toBe(1);
      expect((await values('autopoll_claude_tokens_total')).find((v) => v.labels.direction === 'output')?.value).toBe(20);
      expect(await total('autopoll_claude_cost_usd_total')).toBeGreaterThan(0);
      if (failures[0]!.labels.kind === 'session_crashed') expect(await total('autopoll_session_restarts_total')).toBeGreaterThanOrEqual(1);
    } finally {
      await pipeline.close();
      bridge.close();
    }
  });

  it('529 overloaded replies back the question off and it succeeds without spending its one attempt', async () => {
    let overloaded = 3;
    api.responder = (req) => (overloaded-- > 0 ? { kind: 'error', status: 529 } : echoResponder(req, 0));
    const a = answerer();
    const { bridge, conv, pipeline } = await pipelineWith(a, 1, { attempts: 1 });
    try {
      bridge.ask(conv.id, 'q_busy', 'are you overloaded?');
      await waitFor('answer', () => bridge.responses(conv.id).length === 1, 60_000, 100);
      const body = bridge.responses(conv.id)[0]!.body;
      expect(body.error).toBeUndefined();
      expect(body).toMatchObject({ query_id: 'q_busy', attempts: 1 });
      expect(overloaded).toBeLessThan(0);
    } finally {
      await pipeline.close();
      bridge.close();
    }
  });

  it('never lets one conversation see another conversation questions, with or without session memory', async () => {
    for (const memory of ['none', 'conversation'] as const) {
      api.responder = echoResponder;
      const first = api.messageRequests.length;
      const a = answerer({ sessionMemory: memory });
      const bridge = BridgeFixture.create();
      const convA = bridge.createConversation();
      const convB = bridge.createConversation();
      const pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [convA, convB].map((c) => ({ id: c.id, token: c.tokenB })) }, { answerer: a, concurrency: 2 }).start();
      try {
        for (let i = 0; i < 6; i++) {
          bridge.ask(convA.id, `a_${i}`, `ALPHA-${i} question`);
          bridge.ask(convB.id, `b_${i}`, `BRAVO-${i} question`);
        }
        await waitFor('12 answers', () => bridge.responses().length >= 12, 60_000, 100);
        const requests = api.messageRequests.slice(first).filter((r) => /ALPHA|BRAVO/.test(r.text));
        expect(requests.length).toBeGreaterThanOrEqual(12);
        for (const r of requests) expect(/ALPHA/.test(r.text) && /BRAVO/.test(r.text), r.text.slice(-300)).toBe(false);
        if (memory === 'none') for (const r of requests) expect(r.text.match(/(ALPHA|BRAVO)-\d/g)!.length).toBe(1);
        else expect(requests.some((r) => (r.text.match(/ALPHA-\d/g) ?? []).length > 1 || (r.text.match(/BRAVO-\d/g) ?? []).length > 1)).toBe(true);
      } finally {
        await pipeline.close();
        bridge.close();
      }
    }
  });

  describe('a 401/403 for what a question says, while the credentials work', () => {
    const poison = (i: number): QuestionJob => ({ messageId: i + 1, conversationId: 'conv_poison', queryId: `q_poison_${i}`, question: `POISON ${i}` });
    const ctx = { attempt: 1, replay: false, signal: new AbortController().signal, log: () => undefined, progress: () => undefined };
    const probes = () => api.messageRequests.filter((r) => r.lastUser.includes(PROBE_PROMPT)).length;
    const refusedQuestion = { kind: 'question_refused', retryable: true, message: 'the Claude API refused the question (HTTP 403)' };

    it('fails each such question as a retryable try: one probe for refusals at once; a proof judges --sessions refusals, an answered turn proves again', async () => {
      api.responder = (req, index) => (req.text.includes('POISON') ? { kind: 'error', status: 403, type: 'permission_error' } : echoResponder(req, index));
      const a = answerer({ sessions: 2 });
      await a.start();
      try {
        const before = probes();
        const refusals = await Promise.all([0, 1].map((i) => a.answer(poison(i), ctx).then(() => 'answered', (err: unknown) => err)));
        for (const err of refusals) {
          expect(err).toBeInstanceOf(AnswerError);
          expect(err).not.toBeInstanceOf(FatalAnswererError);
          expect(err).toMatchObject(refusedQuestion);
        }
        expect(probes() - before).toBe(1);
        // The proof judges the next two refusals (--sessions 2)...
        for (let i = 2; i < 4; i++) await expect(a.answer(poison(i), ctx)).rejects.toMatchObject(refusedQuestion);
        expect(probes() - before).toBe(1);
        // ...an answered question proves the credentials again, for two more...
        const answered = await a.answer({ ...poison(4), queryId: 'q_clean', question: 'an ordinary question' }, ctx);
        expect(answered.answer).toContain('an ordinary question');
        for (let i = 5; i < 7; i++) await expect(a.answer(poison(i), ctx)).rejects.toMatchObject(refusedQuestion);
        expect(probes() - before).toBe(1);
        // ...and a third refusal with no answer between them probes again: a key revoked since would be found out.
        await expect(a.answer(poison(7), ctx)).rejects.toMatchObject(refusedQuestion);
        expect(probes() - before).toBe(2);
      } finally {
        await a.close();
      }
    });

    it('a probe that does not finish proves nothing: the question fails as a retryable try, not a fatal one', async () => {
      api.responder = (req, index) =>
        req.text.includes('POISON') ? { kind: 'error', status: 403, type: 'permission_error' } : req.lastUser.includes(PROBE_PROMPT) ? { kind: 'hang' } : echoResponder(req, index);
      // A probe that hangs at the API, or one still starting when its time is up: neither proves anything.
      const { logger, lines } = capturingLogger();
      const a = testClaudeAnswerer(api, { sessions: 1, probeTimeoutMs: 1000, interruptGraceMs: 1000 }, logger);
      await a.start();
      try {
        for (const i of [0, 1]) {
          await expect(a.answer(poison(i), ctx)).rejects.toSatisfy((err) => err instanceof AnswerError && !(err instanceof FatalAnswererError) && err.kind === 'question_refused' && err.retryable);
        }
        // Not remembered: the next refusal probes again.
        expect(lines.filter((l) => l.msg === 'Claude credentials probed without the refused question').map((l) => l.verdict)).toEqual(['unknown', 'unknown']);
      } finally {
        await a.close();
      }
    });
  });

  it('a session that ignores the interrupt is killed (process group) after the grace period and replaced', async () => {
    api.responder = echoResponder;
    api.latencyMs = 0;
    const a = answerer({ sessions: 1, turnTimeoutSec: 2, interruptGraceMs: 1000 });
    const { bridge, conv, pipeline } = await pipelineWith(a, 1);
    try {
      const [pid] = a.pool.pids();
      api.latencyMs = 60_000; // the reply would come far too late
      bridge.ask(conv.id, 'q_frozen', 'will it thaw?');
      await waitFor('request at the API', () => api.messageRequests.some((r) => r.lastUser.includes('q_frozen')));
      process.kill(pid!, 'SIGSTOP'); // a frozen process cannot answer the interrupt
      api.latencyMs = 0;
      await waitFor('answer', () => bridge.responses(conv.id).length === 1, 60_000, 100);
      expect(bridge.responses(conv.id)[0]!.body).toMatchObject({ query_id: 'q_frozen', attempts: 2 });
      expect(() => process.kill(pid!, 0)).toThrow(); // killed, not left stopped
      expect(a.pool.pids()).toHaveLength(1);
      expect(a.pool.pids()[0]).not.toBe(pid);
    } finally {
      api.latencyMs = 0;
      await pipeline.close();
      bridge.close();
    }
  });
});
