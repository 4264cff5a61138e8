import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BridgeClient, queryBody, type TokenCheck } from '../../bridge/BridgeClient.js';
import { MAX_MESSAGE_CHARS } from '../../bridge/limits.js';

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
  pollMs?: number;
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
 */
export async function askQuestion(req: AskRequest): Promise<AskOutcome> {
  const client = openBridge(req.bridgeDb);
  try {
    const { queryId, text } = newQuery(req.question, req.contextFile);
    const conversation = openConversation(client, req.target);
    const { id: messageId, redacted } = client.send(conversation.conversationId, 'a', text);
    const sent: AskSent = { ...conversation, queryId, messageId, redacted };
    req.onSent?.(sent);
    const started = Date.now();
    const response = await waitForResponse(client, sent, started + req.waitMs, req.pollMs ?? 200);
    return {
      sent,
      response,
      waitedSeconds: (Date.now() - started) / 1000,
      sideB: response ? null : client.sessionStatus(sent.conversationId, 'b') ?? null,
    };
  } finally {
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

async function waitForResponse(client: BridgeClient, sent: AskSent, deadline: number, pollMs: number): Promise<Record<string, unknown> | null> {
  for (;;) {
    const found = client.findResponse(sent.conversationId, 'a', sent.messageId, sent.queryId);
    if (found) {
      // Taken even if another reader of side a marked it read in between: the answer is ours.
      client.take(sent.conversationId, 'a', found.id);
      return found.body;
    }
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await sleep(Math.min(pollMs, left));
  }
}
