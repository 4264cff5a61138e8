import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeAnswerer, type ClaudeAnswererOptions } from '../../src/consumer/ClaudeAnswerer.js';
import { BridgeFixture, type Conversation } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { echoResponder, FakeAnthropic } from '../support/fakeAnthropic.js';
import { InProcessPipeline, testLogger, testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

describe('Claude Code answerer: persistent sessions against a fake Anthropic API', () => {
  let api: FakeAnthropic;

  beforeAll(async () => {
    api = await new FakeAnthropic().start();
  });
  afterAll(async () => {
    await api.stop();
  });

  function answerer(extra: Partial<ClaudeAnswererOptions> = {}): ClaudeAnswerer {
    return new ClaudeAnswerer(
      { sessions: 2, model: 'haiku', turnTimeoutSec: 30, maxTurnsPerSession: 1000, maxContextTokens: 1_000_000, sessionMemory: 'none', env: claudeEnv(api.url), interruptGraceMs: 2000, ...extra },
      testLogger(),
    );
  }

  async function pipelineWith(a: ClaudeAnswerer, sessions: number, extra: { attempts?: number } = {}): Promise<{ bridge: BridgeFixture; conv: Conversation; pipeline: InProcessPipeline }> {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const pipeline = await new InProcessPipeline(testPrefix(), bridge.path, { conversations: [{ id: conv.id, token: conv.tokenB }] }, { answerer: a, concurrency: sessions, attempts: extra.attempts ?? 3, backoffMs: 100 }).start();
    return { bridge, conv, pipeline };
  }

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
      }
      const sessionIds = new Set(bodies.map((b) => b.session_id));
      expect(sessionIds.size).toBeLessThanOrEqual(2);
      expect([...sessionIds].every((s) => typeof s === 'string' && s.length > 0)).toBe(true);
    } finally {
      await pipeline.close();
      bridge.close();
    }
  });
});
