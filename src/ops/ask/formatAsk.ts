import { readResponse } from '../../bridge/readResponse.js';
import { formatDuration } from '../../shared/duration.js';
import type { AskOutcome, AskSent } from './askQuestion.js';

export type AskVerdict =
  | { kind: 'answered'; answer: string }
  | { kind: 'error'; error: string }
  | { kind: 'timeout' };

export const ASK_EXIT_CODES: Record<AskVerdict['kind'], number> = { answered: 0, error: 1, timeout: 3 };

export function verdictOf(outcome: AskOutcome): AskVerdict {
  if (!outcome.response) return { kind: 'timeout' };
  const { answer, error } = readResponse(outcome.response);
  // Checked before the error object: ask calls a body without answer text a broken response, whatever else it holds.
  if (answer === undefined) return { kind: 'error', error: 'the response has no answer text (not a response as PROTOCOL.md describes it)' };
  return error ? { kind: 'error', error: `${error.kind}: ${error.message}` } : { kind: 'answered', answer };
}

/** The line said once the query is on the bridge (stderr: stdout carries only the answer). */
export function sentLine(sent: AskSent, waitSec: number): string {
  const where = sent.created
    ? `created conversation ${sent.conversationId} (side b role ${sent.roleB}, expires ${sent.expiresAt} UTC)`
    : `conversation ${sent.conversationId} (side b role ${sent.roleB})`;
  const warning = sent.redacted ? "\nwarning: the bridge's redaction changed the question (it looked like a secret), as the bridge itself would" : '';
  return `${where}: asked ${sent.queryId}, waiting up to ${formatDuration(waitSec)} for the answer${warning}\n`;
}

export interface AskOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The command's output and exit code. Text: the answer alone on stdout. JSON: one object on stdout
 * with the whole response body; side a's token only for a conversation ask created, side b's never.
 */
export function askOutput(outcome: AskOutcome, json: boolean): AskOutput {
  const verdict = verdictOf(outcome);
  const exitCode = ASK_EXIT_CODES[verdict.kind];
  const stderr = verdict.kind === 'error' ? `autopoll: the answer is an error response (${verdict.error})\n`
    : verdict.kind === 'timeout' ? timeoutHint(outcome) : '';
  if (json) return { stdout: `${JSON.stringify(askJson(outcome))}\n`, stderr, exitCode };
  return { stdout: verdict.kind === 'answered' ? `${verdict.answer}\n` : '', stderr, exitCode };
}

/** The file went while ask waited: the question may live on in the file put back, so asking again could ask it twice. */
export function bridgeLostOutput(reason: string, sent: AskSent | undefined): AskOutput {
  const asked = sent
    ? `; ${sent.queryId} was asked in conversation ${sent.conversationId} before: once the file is back, find it with \`autopoll trace ${sent.queryId}\` before asking again`
    : '; ask again';
  return { stdout: '', stderr: `autopoll: the bridge file can no longer be used (${reason})${asked}\n`, exitCode: 2 };
}

function askJson(o: AskOutcome): Record<string, unknown> {
  const { sent } = o;
  return {
    conversation: {
      id: sent.conversationId,
      created: sent.created,
      ...(sent.tokenA ? { tokenA: sent.tokenA } : {}),
      roleB: sent.roleB,
      expiresAt: sent.expiresAt,
    },
    queryId: sent.queryId,
    messageId: sent.messageId,
    response: o.response,
    waitedSeconds: o.waitedSeconds,
  };
}

function timeoutHint(o: AskOutcome): string {
  const { sent } = o;
  const sideB = o.sideB
    ? `Side b's last heartbeat in this conversation was ${o.sideB.lastHeartbeat} UTC (${o.sideB.status}): a producer took it up; are consumers running and answering?`
    : `Side b has no heartbeat in this conversation: no producer has taken it up. Is one serving role ${sent.roleB} (--role ${sent.roleB}) on this bridge file?`;
  return (
    `autopoll: no answer to ${sent.queryId} in conversation ${sent.conversationId} within ${formatDuration(o.waitedSeconds)}. ${sideB} ` +
    'Run `autopoll status` to see served conversations, queues, consumers and producers. The question stays on the bridge and is answered when one serves it.\n'
  );
}
