import { BridgeChanges, BridgeLostError } from '../../bridge/BridgeChanges.js';
import { BridgeClient } from '../../bridge/BridgeClient.js';
import { rememberBridgeFile } from '../../bridge/BridgeDatabase.js';
import { isBusyError } from '../../bridge/busyRetry.js';
import { BUSY_TIMEOUT_MS } from '../../bridge/busyTimeout.js';
import { findAskedResponse } from '../../bridge/findAskedResponse.js';
import { ledgerOnceMade, type Ledger, type LedgerRow } from '../../bridge/Ledger.js';
import { MAX_MESSAGE_CHARS, SIDE_ALIVE_MS } from '../../bridge/limits.js';
import { msSince } from '../../bridge/timestamp.js';
import type { Logger } from '../../shared/logger.js';
import type { ContextReader } from '../../producer/ContextReader.js';
import { AskRefusedError, newQuery } from '../ask/askQuestion.js';
import { AskerConversation, MCP_ROLE, type ConversationSource } from './AskerConversation.js';
import { askerWrite } from './askerWrite.js';
import { stateOfLedger, stateOfResponse, type QuestionState } from './questionState.js';
import { ShardLiveness } from './ShardLiveness.js';
import { ToolRefusal } from './ToolRefusal.js';
import type { FleetFacts } from './readFleet.js';

/**
 * Questions remembered for get_answer (answers of up to 50,000 characters: ~50 MB at most); past
 * this the oldest is forgotten, and found again through the ledger if asked for.
 */
const REMEMBERED = 1000;

export interface McpAskerOptions {
  bridgeDb: string;
  source: ConversationSource;
  /** The producer's context root, when known: a context_file it would refuse is refused before asking. */
  contexts: ContextReader | undefined;
  renewBeforeSec: number;
  progressIntervalMs: number;
  pollIntervalMs: number;
  /** How long a new conversation may wait for its first side-b heartbeat before the role counts as unserved. */
  servingGraceMs: number;
  /** Queues, consumers and the role's producers in Redis for shard_status; undefined when no Redis is named. */
  fleet: ((role: string | null) => Promise<FleetFacts>) | undefined;
}

export interface Asked {
  queryId: string;
  conversationId: string;
  messageId: number;
  /** The bridge's send redacted what looked like a secret in the question: the shard read it so. */
  redacted?: boolean;
  /** Set once answered or failed: the response row has been taken, so it is read from here after. */
  settled?: QuestionState;
}

export interface Answer {
  asked: Asked;
  state: QuestionState;
  waitedSeconds: number;
}

export type ProgressReport = (p: { elapsedSec: number; totalSec: number; message: string }) => void;

/**
 * Side `a` for a Claude session: asks in the conversation it keeps, waits for each answer on the
 * bridge's own changes, and remembers what it asked so that a question whose wait ended can be
 * fetched later. Any number of calls may wait at once; each reads only its own query's response.
 */
export class McpAsker {
  private readonly asked = new Map<string, Asked>();
  private readonly ledger: () => Ledger | undefined;
  private readonly stopping = new AbortController();

  private constructor(
    private readonly client: BridgeClient,
    private readonly changes: BridgeChanges,
    readonly conversation: AskerConversation,
    private readonly liveness: ShardLiveness,
    private readonly options: McpAskerOptions,
    private readonly logger: Logger,
  ) {
    this.ledger = ledgerOnceMade(client.db);
  }

  static open(options: McpAskerOptions, logger: Logger): McpAsker {
    const client = BridgeClient.open(options.bridgeDb, BUSY_TIMEOUT_MS.mcp);
    // The watcher's loss check compares the file at the path with this one: without it a replaced or deleted file went unseen.
    rememberBridgeFile(client.db, options.bridgeDb);
    const changes = new BridgeChanges(client.db, { path: options.bridgeDb, pollIntervalMs: options.pollIntervalMs }, logger);
    changes.start();
    const liveness = new ShardLiveness(client, changes, options.source, { bridgeDb: options.bridgeDb, graceMs: options.servingGraceMs });
    return new McpAsker(client, changes, new AskerConversation(client, options.source, logger), liveness, options, logger);
  }

  async ask(q: { question: string; contextFile?: string | undefined; waitSec: number }, progress: ProgressReport, signal: AbortSignal): Promise<Answer> {
    this.usable();
    if (q.question.trim() === '') throw new ToolRefusal('the question is empty: pass the question as text in `question`');
    if (q.question.length > MAX_MESSAGE_CHARS) {
      throw new ToolRefusal(`the question is ${q.question.length} characters; a bridge message holds at most ${MAX_MESSAGE_CHARS}: shorten it, or put the material in a file and name it in context_file`);
    }
    if (q.contextFile !== undefined && this.options.contexts) {
      const read = await this.options.contexts.read(q.contextFile);
      if (!read.ok) throw new ToolRefusal(`${read.reason} (the shard would refuse it the same way): name a file under the context root, or leave context_file out`);
    }
    let query;
    try {
      query = newQuery(q.question, q.contextFile);
    } catch (err) {
      if (err instanceof AskRefusedError) throw new ToolRefusal(`${err.message}: shorten the question or the context_file path`);
      throw err;
    }
    const conversation = await this.write('create the conversation', signal, () => this.conversation.current(this.options.renewBeforeSec * 1000));
    await this.liveness.ensure(conversation);
    const { id: messageId, redacted } = await this.write('send the query', signal, () => this.client.send(conversation.conversationId, 'a', query.text));
    const asked: Asked = { queryId: query.queryId, conversationId: conversation.conversationId, messageId, ...(redacted ? { redacted } : {}) };
    this.remember(asked);
    this.logger.info({ conversationId: asked.conversationId, messageId, queryId: asked.queryId }, 'asked');
    return this.wait(asked, q.waitSec, progress, signal);
  }

  async getAnswer(q: { queryId: string; waitSec: number }, progress: ProgressReport, signal: AbortSignal): Promise<Answer> {
    const asked = this.asked.get(q.queryId) ?? this.recover(q.queryId);
    if (!asked) {
      const where = 'role' in this.options.source ? `for role ${this.options.source.role}` : `in conversation ${this.options.source.conversationId}`;
      throw new ToolRefusal(`query ${q.queryId} was not asked through autopoll mcp ${where}, or no shard has taken it yet; use the query_id an ask returned, or find any question with \`autopoll trace ${q.queryId} --bridge-db ${this.options.bridgeDb}\``);
    }
    if (asked.settled === undefined) this.usable();
    return this.wait(asked, q.waitSec, progress, signal);
  }

  /** Ends every wait now (each call answers with where its question stands) and takes no new ones. */
  async stopWaiting(): Promise<void> {
    this.stopping.abort();
    this.changes.stop();
    // The ended waits read the ledger for their answer: they run before the file is closed.
    await new Promise((r) => setImmediate(r));
  }

  close(): void {
    this.changes.stop();
    this.client.close();
  }

  /** Is something serving the role: side b's youngest heartbeat, and the fleet in Redis when named. */
  async shardStatus(): Promise<ShardStatus> {
    const held = this.conversation.last;
    const role = 'role' in this.options.source ? this.options.source.role : (held?.roleB ?? null);
    const beat = this.liveness.youngest(held);
    const age = beat === undefined ? undefined : msSince(beat.lastHeartbeat);
    let fleet: ShardStatus['fleet'] = null;
    if (this.options.fleet) {
      try {
        fleet = { reachable: true, ...(await this.options.fleet(role)) };
      } catch (err) {
        fleet = { reachable: false, error: (err as Error).message };
      }
    }
    return {
      role,
      serving: age !== undefined && age < SIDE_ALIVE_MS,
      heartbeatAgeSeconds: age === undefined ? null : Math.round(age / 100) / 10,
      heartbeatStatus: beat?.status ?? null,
      conversation: held ? { id: held.conversationId, expiresAt: held.expiresAt } : null,
      questionsAsked: this.asked.size,
      fleet,
      bridgeLost: this.changes.lostBecause ?? null,
    };
  }

  private async wait(asked: Asked, waitSec: number, progress: ProgressReport, signal: AbortSignal): Promise<Answer> {
    const started = Date.now();
    // Remembered once read: given even after the file is lost or while the server stops.
    if (asked.settled) return { asked, state: asked.settled, waitedSeconds: 0 };
    const tell = () => {
      let where = 'waiting for its answer';
      try {
        where = (asked.settled ?? this.pendingState(asked)).status.replace('_', ' ');
      } catch {
        // A timer's throw would end the process: a ledger that cannot be read now only words the note.
      }
      progress({ elapsedSec: (Date.now() - started) / 1000, totalSec: waitSec, message: `${asked.queryId}: ${where}` });
    };
    tell();
    const timer = setInterval(tell, this.options.progressIntervalMs);
    try {
      const end = await this.changes.waitFor(() => this.settle(asked), started + waitSec * 1000, signal);
      const state = typeof end === 'string' ? this.pendingState(asked) : end;
      return { asked, state, waitedSeconds: (Date.now() - started) / 1000 };
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * A question this server does not remember (it was restarted, as MCP clients restart their
   * servers) found through the shard's ledger: asked through `autopoll mcp` in a conversation of this
   * server's role (or its given one). Only once a shard has taken it: an untaken row has no ledger row.
   */
  private recover(queryId: string): Asked | undefined {
    const ours = (conversationId: string) => {
      if (!('role' in this.options.source)) return conversationId === this.options.source.conversationId;
      const c = this.client.conversation(conversationId);
      return c?.roleA === MCP_ROLE && c.roleB === this.options.source.role;
    };
    const row = this.ledgerRows(queryId).filter((r) => ours(r.conversation_id)).at(-1);
    if (!row) return undefined;
    const asked: Asked = { queryId, conversationId: row.conversation_id, messageId: row.message_id };
    this.remember(asked);
    this.logger.info({ conversationId: asked.conversationId, messageId: asked.messageId, queryId }, 'found a question this server did not ask or does not remember (asked before it started, or by another server)');
    return asked;
  }

  /** The question's answer or failure, taking its response row as the bridge's fetch would; undefined while pending. */
  private settle(asked: Asked): QuestionState | undefined {
    if (asked.settled) return asked.settled;
    const found = findAskedResponse(this.client, this.ledger, asked);
    // The shard writes the ledger row and the response in one transaction: a row read once is final.
    if (!found.response) return found.ledger && found.ledger.state !== 'queued' ? stateOfLedger(found.ledger) : undefined;
    const { response } = found;
    try {
      this.client.take(asked.conversationId, 'a', response.id);
    } catch (err) {
      // Not taken while another process holds the lock: its release is a change, and this looks again.
      if (isBusyError(err)) return undefined;
      throw err;
    }
    asked.settled = stateOfResponse(response.body);
    this.logger.info({ conversationId: asked.conversationId, messageId: asked.messageId, queryId: asked.queryId, responseMessageId: response.id, status: asked.settled.status }, 'answer read');
    return asked.settled;
  }

  /** Unsettled: what the producer's ledger row says (no row, or no table yet in this file: waiting). */
  private pendingState(asked: Asked): QuestionState {
    return asked.settled ?? stateOfLedger(this.ledger()?.get(asked.messageId));
  }

  /** Every ledger row of a query id, oldest first. */
  private ledgerRows(queryId: string): LedgerRow[] {
    return this.ledger()?.rowsWithQueryId(queryId) ?? [];
  }

  private write<T>(what: string, signal: AbortSignal, fn: () => T): Promise<T> {
    return askerWrite({ what, db: this.client.db, logger: this.logger, call: signal, stopping: this.stopping.signal }, fn);
  }

  private usable(): void {
    const lost = this.changes.lostBecause;
    if (lost !== undefined) throw new BridgeLostError(lost);
  }

  private remember(asked: Asked): void {
    this.asked.set(asked.queryId, asked);
    if (this.asked.size > REMEMBERED) this.asked.delete(this.asked.keys().next().value!);
  }
}

export interface ShardStatus {
  role: string | null;
  serving: boolean;
  heartbeatAgeSeconds: number | null;
  heartbeatStatus: string | null;
  conversation: { id: string; expiresAt: string } | null;
  questionsAsked: number;
  fleet: ({ reachable: true } & FleetFacts) | { reachable: false; error: string } | null;
  bridgeLost: string | null;
}
