import type { Queue } from 'bullmq';
import { closingMarks } from '../../shared/attempts.js';
import { requireBridgeId } from '../../bridge/BridgeDatabase.js';
import { openBridge, type Db } from '../../bridge/openBridge.js';
import { ContextReader } from '../../producer/ContextReader.js';
import { Ledger, type LedgerRow } from '../../bridge/Ledger.js';
import { ownedFiles } from '../../shared/ownedFiles.js';
import { questionFromBridge } from '../../producer/questionFromBridge.js';
import type { IndexedJob } from '../../shared/findIndex.js';
import { QuestionJobSchema } from '../../shared/jobs.js';
import { answerJobId, questionJobId } from '../../shared/queues.js';
import { replayLogLine } from './replayLog.js';
import { decide, matches, type Decision, type ReplaySelector } from './replaySelection.js';

export type ReplayResult =
  | { row: LedgerRow; replayed: true; how: 'retried' | 'rebuilt' }
  | { row: LedgerRow; replayed: false; reason: string };

/** What a replay would do: a decision per selected ledger row, and the --query-id ids that selected none. */
export interface ReplayPlan {
  decisions: Decision[];
  /** No ledger row has this query id. */
  notFound: string[];
  /** Ledger rows have it, but the other selectors (--conversation, --since, ...) leave them out. */
  notSelected: string[];
}

/**
 * Re-runs questions that got an error response. A question job still in Redis is retried as it
 * is (the board's retry does the same); one that retention removed, or whose context text was
 * dropped once it was answered, is rebuilt from the bridge.
 * Either way it is marked a replay, so its answer may follow the error response, once: the
 * answer writer moves the ledger row from failed to answered.
 */
export class Replayer {
  constructor(
    private readonly ledger: Ledger,
    private readonly db: Db,
    private readonly contexts: ContextReader,
    private readonly questions: Queue,
    private readonly answers: Queue,
    /** The bridge file's identity: a rebuilt job carries it, and a job made before it gets it. */
    private readonly bridgeId: string,
    /** Indexes a replayed job for the board's find: its entry may have left the index since it was taken. */
    private readonly index: (jobs: IndexedJob[]) => Promise<void>,
  ) {}

  /** The bridge file as a replay reads it: read-only, autopoll's ledger in it. */
  static openBridge(path: string): Db {
    return openBridge(path, { access: 'read-only', mustHold: 'ledger' });
  }

  /** A replayer of the bridge file at `o.bridgeDb`, opened by `Replayer.openBridge`. */
  static over(db: Db, o: { bridgeDb: string; contextRoot: string; contextMaxBytes: number }, questions: Queue, answers: Queue, index: (jobs: IndexedJob[]) => Promise<void>): Replayer {
    const contexts = new ContextReader(o.contextRoot, o.contextMaxBytes, ownedFiles(o.bridgeDb));
    return new Replayer(new Ledger(db), db, contexts, questions, answers, requireBridgeId(db, o.bridgeDb), index);
  }

  /**
   * The rows the selector names: by query id (whatever their state, so skips are reported), else
   * the failed ones; and the query ids that named none.
   */
  plan(selector: ReplaySelector): ReplayPlan {
    if (!selector.queryIds.length) {
      return { decisions: this.ledger.rowsInState('failed').filter((row) => matches(row, selector)).map(decide), notFound: [], notSelected: [] };
    }
    const plan: ReplayPlan = { decisions: [], notFound: [], notSelected: [] };
    for (const id of new Set(selector.queryIds)) {
      const rows = this.ledger.rowsWithQueryId(id);
      const selected = rows.filter((row) => matches(row, selector));
      if (!rows.length) plan.notFound.push(id);
      else if (!selected.length) plan.notSelected.push(id);
      plan.decisions.push(...selected.map(decide));
    }
    return plan;
  }

  async replay(row: LedgerRow): Promise<ReplayResult> {
    const id = row.job_id ?? questionJobId(this.bridgeId, row.message_id);
    const job = await this.questions.getJob(id);
    if (job) {
      const state = await job.getState();
      const data = QuestionJobSchema.safeParse(job.data);
      // An answered job no longer holds its context text: rebuilt from the bridge like a removed one.
      if ((state === 'failed' || state === 'completed') && data.success && !data.data.context?.dropped) {
        await this.index([{ id, data: data.data }]);
        await job.updateData({ ...data.data, bridgeId: this.bridgeId, ...closingMarks(job) });
        // Before the retry: the new round's own log lines follow it.
        await job.log(replayLogLine(Date.now()));
        await job.retry(state);
        return { row, replayed: true, how: 'retried' };
      }
      if (state !== 'failed' && state !== 'completed') return { row, replayed: false, reason: `its job ${id} is ${state}: a retry is already under way` };
      await job.remove();
    }
    const rebuilt = await questionFromBridge(this.db, this.contexts, row.message_id, this.bridgeId);
    if ('reason' in rebuilt) return { row, replayed: false, reason: `cannot rebuild it from the bridge: ${rebuilt.reason}` };
    // A round-0 answer left from before (dropped as late) would shadow the replay's answer id.
    await this.answers.remove(answerJobId(id, 'answer')).catch(() => undefined);
    await this.index([{ id, data: rebuilt.job }]);
    await this.questions.add('question', { ...rebuilt.job, replay: true }, { jobId: id });
    return { row, replayed: true, how: 'rebuilt' };
  }
}
