import type { QuestionJob } from '../shared/jobs.js';
import type { Db } from '../bridge/openBridge.js';
import type { ContextReader } from './ContextReader.js';
import { questionJobOf } from './MessageTaker.js';
import type { InboxRow } from './InboxScanner.js';
import { judgeRow } from './QuestionJudge.js';

/**
 * The question job for a message already taken, rebuilt from the bridge row and judged as when it
 * was first taken (its context file read again); the reason when it can no longer be asked.
 */
export async function questionFromBridge(db: Db, contexts: ContextReader, messageId: number, bridgeId: string): Promise<{ job: QuestionJob } | { reason: string }> {
  const message = db
    .prepare<[number], InboxRow>('SELECT id, conversation_id, from_session, message, timestamp FROM messages WHERE id = ?')
    .get(messageId);
  if (!message) return { reason: 'the question message is gone from the bridge' };
  const verdict = await judgeRow(message, contexts);
  return verdict.accept ? { job: questionJobOf(verdict, bridgeId) } : { reason: verdict.reason };
}
