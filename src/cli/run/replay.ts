import { Queue } from 'bullmq';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { Replayer, type ReplayResult } from '../../ops/replay/Replayer.js';
import { planLines, resultLines, unmatchedLines } from '../../ops/replay/replayReport.js';
import { hasSelector, parseWhen, type ReplaySelector } from '../../ops/replay/replaySelection.js';
import { closeRedis } from '../../shared/closing.js';
import { indexQuestions } from '../../shared/findIndex.js';
import { JOB_RETENTION, ANSWERS_QUEUE, QUESTIONS_QUEUE } from '../../shared/queues.js';
import { connectOnce } from '../connect.js';
import type { REPLAY_SPECS } from '../commands/replay.js';
import { ConfigError, type Parsed } from '../options.js';

function when(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = parseWhen(text, Date.now());
  if (at instanceof Error) throw new ConfigError(`invalid configuration:\n  ${flag}: ${at.message}`);
  return at;
}

export async function runReplay(o: Parsed<typeof REPLAY_SPECS>, cmd: Command): Promise<void> {
  const selector: ReplaySelector = {
    failed: o.failed, queryIds: o.queryId, conversation: o.conversation, errorKind: o.errorKind,
    since: when('--since', o.since), until: when('--until', o.until),
  };
  if (!hasSelector(selector)) {
    throw new ConfigError('invalid configuration:\n  say which questions to replay: --failed for every failed one, or --query-id, --conversation, --since, --until, --error-kind');
  }
  const db = Replayer.openBridge(o.bridgeDb);
  const redis = await connectOnce(o, cmd).catch((err: unknown) => {
    db.close();
    throw err;
  });
  const queueOpts = { connection: redis, prefix: o.prefix };
  const questions = new Queue(QUESTIONS_QUEUE, { ...queueOpts, defaultJobOptions: JOB_RETENTION });
  const answers = new Queue(ANSWERS_QUEUE, queueOpts);
  try {
    const replayer = Replayer.over(db, o, questions, answers, (jobs) => indexQuestions(redis, o.prefix, jobs));
    const plan = replayer.plan(selector);
    // A --query-id that selected nothing is reported, and makes the exit 1; the others are replayed all the same.
    const unmatched = unmatchedLines(plan, o.bridgeDb);
    if (unmatched.length) {
      process.stderr.write(`${unmatched.join('\n')}\n`);
      process.exitCode = 1;
    }
    if (o.dryRun) {
      process.stdout.write(`${planLines(plan.decisions).join('\n')}\n(dry run: nothing replayed)\n`);
      return;
    }
    const todo = plan.decisions.filter((d) => d.replay);
    const bar = todo.length >= 20 && process.stderr.isTTY ? new SingleBar({ format: 'replaying [{bar}] {value}/{total} {eta}s left' }) : undefined;
    bar?.start(todo.length, 0);
    const results: ReplayResult[] = [];
    const failures: string[] = [];
    for (const d of todo) {
      try {
        results.push(await replayer.replay(d.row));
      } catch (err) {
        failures.push(`failed to replay query ${d.row.query_id ?? d.row.message_id}: ${err instanceof Error ? err.message : String(err)}`);
      }
      bar?.increment();
    }
    bar?.stop();
    process.stdout.write(`${resultLines(plan.decisions, results, failures).join('\n')}\n`);
    if (failures.length) process.exitCode = 1;
  } finally {
    await Promise.all([questions.close(), answers.close()]);
    await closeRedis(redis);
    db.close();
  }
}
