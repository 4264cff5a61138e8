import type { BridgeFixture } from '../test/support/bridge.js';
import { pyJsonDumps } from '../src/bridge/pyjson.js';
import { formatBridgeTimestamp, nowMicros } from '../src/bridge/timestamp.js';

/**
 * Fills the bridge with `count` old messages of a few other conversations, as a long-used bridge
 * has them: mostly responses to side `a`, and every tenth an old query to side `b` that was read
 * long ago. Timestamps run up to an hour ago, a few seconds apart. One prepared statement, big
 * transactions, then a WAL checkpoint, so the file looks like a bridge at rest.
 */
export async function seedOldMessages(bridge: BridgeFixture, count: number, conversations = 4): Promise<{ seconds: number; fileMB: number }> {
  const started = performance.now();
  const convs = Array.from({ length: conversations }, () => bridge.createConversation().id);
  const insert = bridge.db.prepare(
    'INSERT INTO messages (conversation_id, from_session, to_session, message, metadata, timestamp, read) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const questionMeta = pyJsonDumps({ action_type: 'question' });
  const responseMeta = pyJsonDumps({ action_type: 'response' });
  const stepMicros = 3_000_000;
  const firstMicros = nowMicros() - 3600 * 1_000_000 - count * stepMicros;
  // Chunks small enough that the bench stays responsive to signals between them.
  const chunk = 20_000;
  for (let start = 0; start < count; start += chunk) {
    bridge.db.transaction(() => {
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const conv = convs[i % convs.length]!;
        const ts = formatBridgeTimestamp(firstMicros + i * stepMicros);
        if (i % 10 === 0) {
          const body = pyJsonDumps({ type: 'query', query_id: `old_${i}`, question: `What did step ${i} change in the build?`, context_file: 'notes/SESSION-RESUME.md' });
          insert.run(conv, 'a', 'b', body, questionMeta, ts, 1);
        } else {
          const body = pyJsonDumps({
            type: 'response', query_id: `old_${i - (i % 10)}`,
            answer: `Step ${i} moved the cache to the shared volume and pinned the compiler (SESSION-RESUME.md:${i % 400}-${(i % 400) + 4}).`,
            sources: [`SESSION-RESUME.md:${i % 400}-${(i % 400) + 4}`], shard_id: 'haiku_autopoll_shard', llm_type: 'haiku_task_tool', response_time_sec: 19.2,
          });
          insert.run(conv, 'b', 'a', body, responseMeta, ts, i % 3 === 0 ? 0 : 1);
        }
      }
    }).immediate();
    await new Promise((r) => setImmediate(r));
  }
  bridge.db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = bridge.db.pragma('page_count', { simple: true }) as number;
  const pageSize = bridge.db.pragma('page_size', { simple: true }) as number;
  return { seconds: (performance.now() - started) / 1000, fileMB: Math.round((pages * pageSize) / 1e6) };
}
