import type { Command } from 'commander';
import { z } from 'zod';
import { openBridge } from '../../bridge/openBridge.js';
import { buildTrace } from '../../ops/trace/buildTrace.js';
import { formatTrace } from '../../ops/trace/formatTrace.js';
import { readBridgeFacts, type TraceSelector } from '../../ops/trace/readBridgeFacts.js';
import { TraceQueues } from '../../ops/trace/readRedisFacts.js';
import type { BridgeFacts, RedisFacts } from '../../ops/trace/traceFacts.js';
import { closeRedis } from '../../shared/closing.js';
import { terminalSafeJson } from '../../shared/printable.js';
import type { TRACE_SPECS } from '../commands/trace.js';
import { connectOnce } from '../connect.js';
import { ConfigError, type Parsed } from '../options.js';

const QueryIdSchema = z.string().min(1, 'the query id must not be empty').optional();

/** Exit code when no question matches: 1 is a failure to look, 2 a usage error. */
const NOT_FOUND = 3;

export async function runTrace(o: Parsed<typeof TRACE_SPECS>, cmd: Command, args: unknown[]): Promise<void> {
  const queryId = QueryIdSchema.safeParse(args[0]);
  if (!queryId.success) throw new ConfigError(`invalid query id: ${queryId.error.issues[0]!.message}`);
  const selector: TraceSelector = { queryId: queryId.data, messageId: o.messageId, conversation: o.conversation };
  if (selector.queryId === undefined && selector.messageId === undefined) throw new ConfigError('say which question: its query id, or --message-id');
  // Read once and closed before Redis is read: the producer's writes never wait on this command.
  const db = openBridge(o.bridgeDb, { access: 'read-only', mustHold: 'ledger' });
  let found: BridgeFacts[];
  try {
    found = readBridgeFacts(db, selector);
  } finally {
    db.close();
  }
  if (!found.length) {
    process.stderr.write(`not found: no question ${describe(selector)} in bridge file ${o.bridgeDb} (check the id, --conversation and --bridge-db)\n`);
    process.exitCode = NOT_FOUND;
    return;
  }
  const redisFacts = await readRedis(o, cmd, found);
  const traces = found.map((facts, i) => buildTrace(facts, redisFacts[i]!));
  process.stdout.write(o.json ? traces.map((t) => `${terminalSafeJson(t)}\n`).join('') : traces.map(formatTrace).join('\n'));
}

/** Each question's jobs; a Redis that does not answer leaves the bridge's side, said in each trace. */
async function readRedis(o: Parsed<typeof TRACE_SPECS>, cmd: Command, found: BridgeFacts[]): Promise<RedisFacts[]> {
  const none: RedisFacts = { reached: true, questionJob: undefined, answerJobs: [] };
  // A question never enqueued (rejected at take, or not taken yet) has nothing in Redis to read.
  if (!found.some((f) => f.ledger?.job_id)) return found.map(() => none);
  let redis;
  try {
    redis = await connectOnce(o, cmd, 5000);
  } catch (err) {
    const unreached: RedisFacts = { reached: false, error: (err as Error).message };
    return found.map(() => unreached);
  }
  const queues = new TraceQueues(redis, o.prefix);
  try {
    return await Promise.all(found.map((f) => (f.ledger?.job_id ? queues.read(f.ledger.job_id, f.ledger.attempts) : none)));
  } finally {
    await queues.close();
    await closeRedis(redis);
  }
}

function describe(s: TraceSelector): string {
  return [
    s.queryId !== undefined ? `with query id ${s.queryId}` : '',
    s.messageId !== undefined ? `with message id ${s.messageId}` : '',
    s.conversation !== undefined ? `in conversation ${s.conversation}` : '',
  ].filter(Boolean).join(' ');
}
