/**
 * One autopoll host on a bench stack: a Claude consumer started and waited for until every session
 * is warm, and questions asked as side `a` in one transaction, with what the exactly-once check needs.
 */
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import type { BridgeFixture, Conversation } from '../../test/support/bridge.js';
import { claudeChildren } from '../../test/support/claudeProcesses.js';
import type { AutopollProcess } from '../../test/support/cli.js';
import type { Asked } from '../../test/support/exactlyOnce.js';
import { round } from '../../test/support/numbers.js';
import { waitFor } from '../../test/support/wait.js';
import type { BenchStack } from '../stack.js';
import { claudeConsumerArgs } from './consumerArgs.js';

/** Spawns the consumer; resolves once it logged `consumer started` (its pool is up) and runs `sessions` Claude Code processes. */
export async function startWarmConsumer(stack: BenchStack, sessions: number, env: NodeJS.ProcessEnv, name: string): Promise<{ consumer: AutopollProcess; readySec: number }> {
  const t0 = performance.now();
  const consumer = stack.service({ name, args: claudeConsumerArgs(stack, sessions), env });
  await waitFor(
    `${name}: \`consumer started\` and ${sessions} Claude Code processes`,
    () => (consumer.logged.get('consumer started') ?? 0) > 0 && claudeChildren(consumer.pid).length >= sessions,
    { timeoutMs: 60_000 + sessions * 5_000, everyMs: 100, guard: [consumer] },
  );
  return { consumer, readySec: round((performance.now() - t0) / 1000, 2) };
}

/** `n` questions (query ids `<tag>_<i>`) in one transaction: all asked at once. */
export function askAll(bridge: BridgeFixture, conv: Conversation, tag: string, n: number): Asked {
  const queryIds = Array.from({ length: n }, (_, i) => `${tag}_${i}`);
  const messageIds = bridge.db.transaction(() => queryIds.map((q, i) => bridge.ask(conv.id, q, `Question ${i} of ${tag}: where is the retry policy defined, and what backoff does it use?`))).immediate();
  return { queryIds, messageIds };
}

/** Asked -> answer row of each answered question (ms), and the first ask -> last answer row (s), from the rows' own timestamps. */
export function answerTimes(bridge: BridgeFixture, conv: Conversation): { perQuestionMs: number[]; spanSec: number } {
  const rows = bridge.db
    .prepare<[string, string], { asked: string; answered: string }>(
      `SELECT q.timestamp AS asked, a.timestamp AS answered FROM messages q JOIN messages a
         ON a.conversation_id = q.conversation_id AND a.from_session = 'b' AND json_extract(a.message, '$.query_id') = json_extract(q.message, '$.query_id')
       WHERE q.conversation_id = ? AND q.from_session = 'a' AND a.conversation_id = ?`,
    )
    .all(conv.id, conv.id)
    .map((r) => ({ asked: micros(r.asked), answered: micros(r.answered) }));
  if (rows.length === 0) return { perQuestionMs: [], spanSec: 0 };
  const first = Math.min(...rows.map((r) => r.asked));
  const last = Math.max(...rows.map((r) => r.answered));
  return { perQuestionMs: rows.map((r) => (r.answered - r.asked) / 1000), spanSec: (last - first) / 1e6 };
}

function micros(timestamp: string): number {
  return parseBridgeTimestamp(timestamp) ?? Number.NaN;
}
