import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerContext, AnswerResult } from '../../src/consumer/Answerer.js';
import { StubAnswerer } from '../../src/consumer/StubAnswerer.js';
import type { QuestionJob } from '../../src/shared/jobs.js';
import { BridgeFixture, tempDir, type Conversation } from '../support/bridge.js';
import { InProcessPipeline, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const CONCURRENCY = 16;

/** Each question listens for the consumer's stop while it waits, as the Claude pool's queue does, until all of them are in. */
class WaitingAnswerer extends StubAnswerer {
  private entered = 0;
  private allIn!: () => void;
  private readonly all = new Promise<void>((r) => (this.allIn = r));

  override async answer(q: QuestionJob, ctx: AnswerContext): Promise<AnswerResult> {
    const onStop = (): void => undefined;
    ctx.stopping?.addEventListener('abort', onStop, { once: true });
    if (++this.entered === CONCURRENCY) this.allIn();
    await this.all;
    ctx.stopping?.removeEventListener('abort', onStop);
    return super.answer(q, ctx);
  }
}

/**
 * One stop signal for every question in flight: with --sessions above 10, as many questions wait
 * for a session at once, and Node must not warn of an EventTarget leak in the consumer's output.
 */
describe('the consumer stop signal', () => {
  let bridge: BridgeFixture;
  let conv: Conversation;
  let pipeline: InProcessPipeline;
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);

  beforeAll(async () => {
    bridge = BridgeFixture.create(join(tempDir('autopoll-stop-'), 'bridge.db'));
    conv = bridge.createConversation();
    pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }, { concurrency: CONCURRENCY, answerer: new WaitingAnswerer(0) }).start();
    process.on('warning', onWarning);
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await pipeline?.close();
    bridge?.close();
  });

  it(`${CONCURRENCY} questions listening for the stop at once: answered, and no MaxListenersExceededWarning`, async () => {
    for (let i = 0; i < CONCURRENCY; i++) bridge.ask(conv.id, `q_${i}`, `question ${i}`);
    await waitFor('every answer', () => bridge.responses(conv.id).length === CONCURRENCY, 20_000);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  }, 30_000);
});
