/**
 * The pickup-latency phase: questions sent one at a time with a small gap; per question, bridge
 * commit -> job active (BullMQ's processedOn), and the steps around it.
 */
import type { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBridgeTimestamp } from '../../src/bridge/timestamp.js';
import type { BridgeFixture, Conversation } from '../../test/support/bridge.js';
import type { LatencyResult, PipelineConfig } from '../pipeline.js';
import { round } from '../../test/support/numbers.js';
import { type AnswerCounter, nowMs } from '../bridgeTraffic.js';
import { distribution } from '../numbers.js';

/** A question as the bench sent it: its bridge id, and when its insert returned (ms) and how long it took. */
interface Sent {
  id: number;
  queryId: string;
  at: number;
  callMs: number;
}

export async function measureLatency(bridge: BridgeFixture, conv: Conversation, questions: Queue, answers: AnswerCounter, config: PipelineConfig): Promise<LatencyResult> {
  const mark = answers.mark();
  const sent = await askOneAtATime(bridge, conv, config);
  await answers.waitFor(mark, config.latencyN, 60_000);
  // Read the jobs now: the producer keeps only the last 10,000 completed ones.
  const steps = await stepsOf(sent, bridge, questions, answerTimes(answers, conv, mark));
  return {
    n: config.latencyN,
    gapMs: config.latencyGapMs,
    pickupMs: distribution(steps.pickup),
    pickupSamplesMs: steps.pickup.map((v) => round(v, 2)),
    negativeSamples: steps.pickup.filter((v) => v < 0).length,
    insertCallMs: distribution(sent.map((s) => s.callMs)),
    insertToEnqueuedMs: distribution(steps.enqueued),
    enqueuedToActiveMs: distribution(steps.queued),
    insertToAnswerMs: distribution(steps.answered),
    missingJobs: steps.missingJobs,
  };
}

async function askOneAtATime(bridge: BridgeFixture, conv: Conversation, config: PipelineConfig): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (let i = 0; i < config.latencyN; i++) {
    const queryId = `lat_${i}`;
    const before = nowMs();
    const id = bridge.ask(conv.id, queryId, `Latency question ${i}: where is the cache?`);
    const at = nowMs();
    sent.push({ id, queryId, at, callMs: at - before });
    await sleep(config.latencyGapMs);
  }
  return sent;
}

/** When each answer row after `mark` was committed (ms), by query id. */
function answerTimes(answers: AnswerCounter, conv: Conversation, mark: number): Map<string, number> {
  return new Map(
    (answers.db
      .prepare("SELECT json_extract(message, '$.query_id') AS q, timestamp FROM messages WHERE id > ? AND conversation_id = ? AND from_session = 'b'")
      .all(mark, conv.id) as Array<{ q: string; timestamp: string }>).map((r) => [r.q, (parseBridgeTimestamp(r.timestamp) ?? 0) / 1000]),
  );
}

/** Per question, from its job's timestamps: commit -> active, commit -> added, added -> active, commit -> answer row. */
async function stepsOf(sent: Sent[], bridge: BridgeFixture, questions: Queue, answerAt: Map<string, number>) {
  const steps = { pickup: [] as number[], enqueued: [] as number[], queued: [] as number[], answered: [] as number[], missingJobs: 0 };
  for (const s of sent) {
    const job = await questions.getJob(bridge.jobId(s.id));
    if (!job || !job.processedOn) {
      steps.missingJobs++;
      continue;
    }
    steps.pickup.push(job.processedOn - s.at);
    steps.enqueued.push(job.timestamp - s.at);
    steps.queued.push(job.processedOn - job.timestamp);
    const a = answerAt.get(s.queryId);
    if (a) steps.answered.push(a - s.at);
  }
  return steps;
}
