import { existsSync } from 'node:fs';
import { ConversationRows, type ConversationGrant, type ConversationRow } from '../bridge/conversations.js';
import { BUSY_TIMEOUT_MS, openBridge, type Db } from '../bridge/openBridge.js';
import { formatBridgeTimestamp, parseBridgeTimestamp } from '../bridge/timestamp.js';
import { tokensMatch } from '../bridge/tokens.js';
import { fail, ok, skip, warn, type Check, type CheckResult } from '../shared/checks.js';
import { formatDuration } from '../shared/duration.js';
import { errorText } from './check.js';

/**
 * A conversation closer than this to its expiry is worth a warning: it stops being served then.
 * Bridge conversations live 3 h, so a longer threshold would warn about every one.
 */
export const EXPIRY_WARNING_MS = 30 * 60 * 1000;

/**
 * The conversations the producer would serve: each `--conversation` granted (exists, side-b
 * token, not expired) and how many unexpired ones `--role` finds. Tokens are compared, never
 * printed: every line names a conversation by its id only.
 */
export function conversationsCheck(bridgeDb: string, grants: readonly ConversationGrant[], role: string | undefined, timeoutMs = 5000): Check {
  return {
    name: 'conversation',
    timeoutMs,
    run: async () => {
      if (grants.length === 0 && !role) {
        return [warn('conversation', 'no conversation to serve: neither --conversation nor --role is set', 'pass --conversation CONV_ID:TOKEN (env AUTOPOLL_CONVERSATIONS) or --role ROLE (env AUTOPOLL_ROLE)')];
      }
      const names = [...(grants.length ? ['conversation'] : []), ...(role ? ['role'] : [])];
      if (!existsSync(bridgeDb)) return names.map((n) => skip(n, 'no bridge file to read (see bridge)'));
      const db = openConversations(bridgeDb);
      // Not SQLite, not a bridge, not readable: the bridge line says so and how to fix it.
      if (db instanceof Error) return names.map((n) => skip(n, `cannot read the conversations (see bridge): ${errorText(db)}`));
      try {
        const nowMicros = Date.now() * 1000;
        const rows = new ConversationRows(db);
        const results = grants.map((g) => judgeGrant(g, rows.byId(g.id), nowMicros));
        if (role) results.push(judgeRole(role, roleCounts(db, role, formatBridgeTimestamp(nowMicros))));
        return results;
      } finally {
        db.close();
      }
    },
  };
}

/** The bridge file, read-only, once it is known to have a conversations table; or why not. */
function openConversations(path: string): Db | Error {
  let db: Db | undefined;
  try {
    db = openBridge(path, { access: 'read-only', busyTimeoutMs: BUSY_TIMEOUT_MS.check });
    db.prepare('SELECT 1 FROM conversations LIMIT 1').get();
    return db;
  } catch (err) {
    db?.close();
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** One granted conversation against its row. Pure: `nowMicros` is the caller's clock. */
export function judgeGrant(grant: ConversationGrant, row: ConversationRow | undefined, nowMicros: number): CheckResult {
  const id = grant.id;
  if (!row) {
    return fail('conversation', `${id} does not exist in the bridge file`, 'check the id in --conversation (env AUTOPOLL_CONVERSATIONS), and that --bridge-db (env BRIDGE_DB) is the file the bridge writes');
  }
  if (!tokensMatch(grant.token, row.session_b_token)) {
    const which = tokensMatch(grant.token, row.session_a_token) ? "the token given is side a's, not side b's" : "the token given is not this conversation's side-b token";
    return fail('conversation', `${id}: ${which}`, `pass --conversation ${id}:<session_b_token>, the side-b token of the conversation`);
  }
  const expires = parseBridgeTimestamp(row.expires_at);
  if (expires === undefined) return warn('conversation', `${id}: expires_at ${JSON.stringify(row.expires_at)} is not a bridge timestamp`, 'the bridge writes naive UTC ISO 8601 (2026-11-22T01:58:36.769836); check what wrote this row');
  const leftMs = (expires - nowMicros) / 1000;
  const newConversation = 'start a new conversation on the bridge and pass its --conversation CONV_ID:TOKEN, or serve by --role ROLE, which picks new conversations up while running';
  if (leftMs <= 0) return fail('conversation', `${id} expired at ${row.expires_at} UTC (${formatDuration(-leftMs / 1000, 'words')} ago): the bridge refuses its tokens`, newConversation);
  if (leftMs < EXPIRY_WARNING_MS) return warn('conversation', `${id} is served, and expires in ${formatDuration(leftMs / 1000, 'words')} (${row.expires_at} UTC)`, `after that it is no longer served: ${newConversation}`);
  return ok('conversation', `${id} is served until ${row.expires_at} UTC`);
}

export interface RoleCounts {
  unexpired: number;
  expired: number;
  /** Other roles with unexpired conversations, for a misspelled --role. */
  others: Array<{ role: string; n: number }>;
}

function roleCounts(db: Db, role: string, now: string): RoleCounts {
  const rows = db
    .prepare<[string, string], { role: string; live: number; dead: number }>(
      'SELECT session_b_role AS role, SUM(expires_at > ?) AS live, SUM(expires_at <= ?) AS dead FROM conversations GROUP BY session_b_role',
    )
    .all(now, now);
  const mine = rows.find((r) => r.role === role);
  return {
    unexpired: mine?.live ?? 0,
    expired: mine?.dead ?? 0,
    others: rows.filter((r) => r.role !== role && r.live > 0).map((r) => ({ role: r.role, n: r.live })),
  };
}

/** What `--role` finds. None is a warning, not a failure: new conversations are picked up while running. */
export function judgeRole(role: string, counts: RoleCounts): CheckResult {
  const plural = (n: number) => `${n} unexpired ${n === 1 ? 'conversation has' : 'conversations have'}`;
  if (counts.unexpired > 0) return ok('role', `${plural(counts.unexpired)} session_b_role ${role}${counts.expired ? ` (${counts.expired} expired)` : ''}`);
  const others = counts.others.map((o) => `${o.role} (${o.n})`).join(', ');
  return warn(
    'role',
    `no unexpired conversation has session_b_role ${role}${counts.expired ? ` (${counts.expired} expired)` : ''}${others ? `; the roles with unexpired ones: ${others}` : ''}`,
    `check the spelling of --role (env AUTOPOLL_ROLE); conversations created later with this role are picked up while running`,
  );
}
