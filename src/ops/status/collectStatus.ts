import { Queue } from 'bullmq';
import type { RedisConnection } from '../../shared/redis.js';
import { openBridge, type Db } from '../../bridge/openBridge.js';
import { Ledger } from '../../bridge/Ledger.js';
import { listConsumers } from '../../shared/ConsumerPresence.js';
import { listProducers } from '../../shared/ProducerPresence.js';
import { ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../../shared/queues.js';
import { formatBridgeTimestamp, msSince } from '../../bridge/timestamp.js';
import { SIDE_ALIVE_MS } from '../../bridge/limits.js';
import { JOB_STATES, mergeConversations, type BridgeConversation, type JobCounts, type StatusReport } from './statusReport.js';

/**
 * Everything `autopoll status` shows, read once: RedisConnection (queues, workers, presence) and, when the
 * file can be read, the bridge (ledger, side-b heartbeats). A bridge problem is reported in the
 * result; a Redis one is thrown.
 */
export async function collectStatus(redis: RedisConnection, prefix: string, bridgeDb: string, now = Date.now()): Promise<StatusReport> {
  const bridge = readBridge(bridgeDb, now);
  const questions = new Queue(QUESTIONS_QUEUE, { connection: redis, prefix });
  const answers = new Queue(ANSWERS_QUEUE, { connection: redis, prefix });
  for (const q of [questions, answers]) q.on('error', () => undefined); // the awaited calls below reject instead
  try {
    const [questionCounts, answerCounts, questionWorkers, answerWorkers, questionsPaused, answersPaused, oldest, consumers, producers] = await Promise.all([
      jobCounts(questions),
      jobCounts(answers),
      questions.getWorkersCount(),
      answers.getWorkersCount(),
      questions.isPaused(),
      answers.isPaused(),
      questions.getJobs(['wait'], 0, 0, true),
      listConsumers(redis, prefix, now),
      listProducers(redis, prefix, now),
    ]);
    const oldestAt = oldest[0]?.timestamp;
    return {
      conversations: mergeConversations(producers, bridge.conversations),
      bridge: { path: bridgeDb, error: bridge.error },
      ledger: bridge.ledger,
      queues: { questions: questionCounts, answers: answerCounts },
      workers: { questions: questionWorkers, answers: answerWorkers },
      pausedQueues: [...(questionsPaused ? [QUESTIONS_QUEUE] : []), ...(answersPaused ? [ANSWERS_QUEUE] : [])],
      consumers,
      producers: producers.map((p) => ({ ...p, backpressure: p.backpressure ?? false })),
      oldestWaitingSeconds: oldestAt === undefined ? null : Math.max(0, now - oldestAt) / 1000,
    };
  } finally {
    // The connection is the caller's: Queue.close leaves a connection it was given open.
    await Promise.all([questions.close(), answers.close()]);
  }
}

/** A queue's jobs in every state status shows, 0 for a state with none (shard_status reads it too). */
export async function jobCounts(queue: Queue): Promise<JobCounts> {
  const counts = await queue.getJobCounts(...JOB_STATES);
  return Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as JobCounts;
}

interface BridgeView {
  ledger: StatusReport['ledger'];
  conversations: BridgeConversation[] | null;
  error: string | null;
}

function readBridge(path: string, now: number): BridgeView {
  let db: Db;
  try {
    db = openBridge(path, { access: 'read-only', mustHold: 'ledger' });
  } catch (err) {
    return { ledger: null, conversations: null, error: (err as Error).message };
  }
  try {
    return { ledger: new Ledger(db).countsByState(), conversations: liveSideB(db, now), error: null };
  } catch (err) {
    return { ledger: null, conversations: null, error: `bridge file ${path} could not be read: ${(err as Error).message}` };
  } finally {
    db.close();
  }
}

/** Unexpired conversations whose side b an asker would count alive. */
function liveSideB(db: Db, now: number): BridgeConversation[] {
  const rows = db
    .prepare<[string], { id: string; expires_at: string; status: string; last_heartbeat: string }>(
      `SELECT c.id, c.expires_at, s.status, s.last_heartbeat FROM conversations c
       JOIN session_status s ON s.conversation_id = c.id AND s.session_id = 'b'
       WHERE c.expires_at > ? ORDER BY c.id`,
    )
    .all(formatBridgeTimestamp(now * 1000));
  return rows
    .filter((r) => msSince(r.last_heartbeat, now) < SIDE_ALIVE_MS)
    .map((r) => ({ id: r.id, expiresAt: r.expires_at, sideB: { status: r.status, lastHeartbeat: r.last_heartbeat } }));
}
