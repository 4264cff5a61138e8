import { randomBytes } from 'node:crypto';
import { BridgeChanges } from '../../bridge/BridgeChanges.js';
import { BridgeClient, queryBody, type TokenCheck } from '../../bridge/BridgeClient.js';
import { rememberBridgeFile } from '../../bridge/BridgeDatabase.js';
import { findAskedResponse } from '../../bridge/findAskedResponse.js';
import { ledgerOnceMade, type Ledger } from '../../bridge/Ledger.js';
import { MAX_MESSAGE_CHARS } from '../../bridge/limits.js';
import type { Logger } from '../../shared/logger.js';

/** The role `ask` gives side `a` of the conversations it creates, so they are told apart in the bridge. */
export const ASK_ROLE = 'autopoll-ask';

/** The request cannot be sent as given (unknown conversation, refused token, too long): exit 2. */
export class AskRefusedError extends Error { override readonly name = 'AskRefusedError'; }

export type AskTarget = { conversationId: string; token: string } | { role: string };

export interface AskRequest {
  bridgeDb: string;
  question: string;
  target: AskTarget;
  contextFile?: string | undefined;
  waitMs: number;
  /** The fallback poll of the bridge file, for file systems where watching it tells nothing (200 ms when left out). */
  pollMs?: number;
  /** Told when the bridge folder cannot be watched (the poll then does it all). */
  logger: Logger;
  /** Called once the query is on the bridge, before the wait: the caller says where it went. */
  onSent?: (sent: AskSent) => void;
}

export interface AskSent {
  conversationId: string;
  /** Only when ask created the conversation: side a's token, to ask again in it. */
  tokenA?: string;
  created: boolean;
  roleB: string;
  expiresAt: string;
  queryId: string;
  messageId: number;
  /** The bridge's redaction changed the text (it may no longer be valid JSON). */
  redacted: boolean;
}

export interface AskOutcome {
  sent: AskSent;
  /** The response body, or null when none came in time. */
  response: Record<string, unknown> | null;
  waitedSeconds: number;
  /** Side b's session_status when no response came, for the hint; null when it has none. */
  sideB: { status: string; lastHeartbeat: string } | null;
}

const REFUSALS: Record<Exclude<TokenCheck, 'ok'>, (id: string) => string> = {
  'unknown conversation': (id) => `conversation ${id} does not exist in this bridge file; check --conversation and --bridge-db`,
  'wrong token': (id) => `--token (env AUTOPOLL_ASK_TOKEN) refused: it is not the side-a token of conversation ${id}`,
  expired: (id) => `conversation ${id} has expired (the bridge refuses its tokens); leave out --conversation to create a new one`,
};

/**
 * Asks one question as side `a`, as a bridge asker would: a query row in a conversation it
 * creates or is given, then the response to its query_id, taken as the bridge's fetch takes it.
 * The wait is `autopoll mcp`'s: woken by each commit of another process (BridgeChanges), it
 * rejects with BridgeLostError when the bridge file is replaced or deleted meanwhile.
 */
export async function askQuestion(req: AskRequest): Promise<AskOutcome> {
  const client = openBridge(req.bridgeDb);
  // The watcher's loss check compares the file at the path with this one: without it a replaced or deleted file went unseen.
  rememberBridgeFile(client.db, req.bridgeDb);
  const changes = new BridgeChanges(client.db, { path: req.bridgeDb, pollIntervalMs: req.pollMs ?? 200 }, req.logger);
  try {
    const { queryId, text } = newQuery(req.question, req.contextFile);
    const conversation = openConversation(client, req.target);
    const { id: messageId, redacted } = client.send(conversation.conversationId, 'a', text);
    const sent: AskSent = { ...conversation, queryId, messageId, redacted };
    req.onSent?.(sent);
    const started = Date.now();
    changes.start();
    const ledger = ledgerOnceMade(client.db);
    const end = await changes.waitFor(() => takeResponse(client, ledger, sent), started + req.waitMs);
    const response = typeof end === 'string' ? null : end;
    return {
      sent,
      response,
      waitedSeconds: (Date.now() - started) / 1000,
      sideB: response ? null : client.sessionStatus(sent.conversationId, 'b') ?? null,
    };
  } finally {
    changes.stop();
    client.close();
  }
}

/** A query with a new id, as the bridge's askers write it; refused when the bridge would not take its message. */
export function newQuery(question: string, contextFile: string | undefined): { queryId: string; text: string } {
  const queryId = `q_${randomBytes(6).toString('hex')}`;
  const text = queryBody(queryId, question, contextFile === undefined ? {} : { context_file: contextFile });
  if (text.length > MAX_MESSAGE_CHARS) {
    throw new AskRefusedError(`the question is too long: the query message would be ${text.length} characters, the bridge takes at most ${MAX_MESSAGE_CHARS}`);
  }
  return { queryId, text };
}

/** A missing or foreign file is the caller's to fix, like a bad flag. */
function openBridge(path: string): BridgeClient {
  try {
    return BridgeClient.open(path);
  } catch (err) {
    throw new AskRefusedError((err as Error).message);
  }
}

function openConversation(client: BridgeClient, target: AskTarget): Omit<AskSent, 'queryId' | 'messageId' | 'redacted'> {
  if ('role' in target) {
    const c = client.createConversation({ roleA: ASK_ROLE, roleB: target.role });
    return { conversationId: c.id, tokenA: c.tokenA, created: true, roleB: target.role, expiresAt: c.expiresAt };
  }
  const check = client.checkToken(target.conversationId, 'a', target.token);
  if (check !== 'ok') throw new AskRefusedError(REFUSALS[check](target.conversationId));
  const { roleB, expiresAt } = client.conversation(target.conversationId)!;
  return { conversationId: target.conversationId, created: false, roleB, expiresAt };
}

/**
 * The response to our query, taken as the bridge's fetch takes it; undefined while there is none.
 * One another reader of side a marked read first is found through the producer's ledger; a ledger
 * row that failed without a response row is waited past, as before (ask reads only responses).
 */
function takeResponse(client: BridgeClient, ledger: () => Ledger | undefined, sent: AskSent): Record<string, unknown> | undefined {
  const { response } = findAskedResponse(client, ledger, sent);
  if (!response) return undefined;
  // Taken even if another reader of side a marked it read in between: the answer is ours.
  client.take(sent.conversationId, 'a', response.id);
  return response.body;
}
