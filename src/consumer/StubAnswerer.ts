import { setTimeout as sleep } from 'node:timers/promises';
import type { QuestionJob } from '../shared/jobs.js';
import { AnswerError, type AnswerContext, type AnswerResult, type Answerer } from './Answerer.js';

/**
 * A deterministic answerer for tests, benchmarks and smoke runs: no model, a fixed latency.
 * A question containing `#stub-fail` always fails, and `#stub-fail-until-N` fails its first
 * N-1 attempts, so that retries and error responses can be exercised end to end;
 * `#stub-fail-unless-replay` fails until an operator replays it (board retry, `autopoll replay`).
 */
export class StubAnswerer implements Answerer {
  readonly llmType = 'stub';

  constructor(private readonly latencyMs: number) {}

  async start(): Promise<void> {}

  async answer(q: QuestionJob, ctx: AnswerContext): Promise<AnswerResult> {
    if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { signal: ctx.signal });
    const until = /#stub-fail-until-(\d+)/.exec(q.question);
    if (!ctx.replay && q.question.includes('#stub-fail-unless-replay')) {
      throw new AnswerError('stub_awaiting_replay', `stub failure until the question is replayed (attempt ${ctx.attempt})`, true);
    }
    if (/#stub-fail(?!-until|-unless-replay)/.test(q.question) || (until && ctx.attempt < Number(until[1]))) {
      throw new AnswerError('stub_failure', `stub failure requested by the question (attempt ${ctx.attempt})`, true);
    }
    const sources = q.context ? [`${q.context.path}:1`] : [];
    return { answer: `Stub answer to ${q.queryId}.`, sources, model: 'stub' };
  }

  sessionPids(): number[] {
    return [];
  }

  async close(): Promise<void> {}
}
