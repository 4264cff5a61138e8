import { z } from 'zod';
import { JOB_RETENTION } from './queues.js';
import type { RedisConnection } from './redis.js';

/**
 * The index the board's find reads (a board may reach only Redis, never the bridge file): query
 * id, message id and conversation id to the questions the producer took. Each entry names its
 * job and its three ids (nothing else: no token, no question text), so a job that retention
 * removed is still shown, as gone; a question rejected at take has no job, which marks it.
 */
export interface FindEntry {
  /** The question job, or null: rejected at take (the asker got the error response at once). */
  jobId: string | null;
  /** Null for a rejected message that named no query id: found by its message and conversation id. */
  queryId: string | null;
  messageId: number;
  conversationId: string;
  /** When the job was indexed (ms since the epoch). */
  at: number;
}

/**
 * Bounded as the questions queue is: an entry lives as long as a failed job stays (30 days), and
 * the index holds the newest 20,000 questions (the completed plus failed jobs the queue keeps). A
 * search lists a conversation's newest 200, a (reused) query or message id's newest 20.
 */
export const FIND_BOUNDS = {
  retentionMs: JOB_RETENTION.removeOnFail.age * 1000,
  questions: JOB_RETENTION.removeOnComplete.count + JOB_RETENTION.removeOnFail.count,
  perConversation: 200,
  perId: 20,
};
export type FindBounds = typeof FIND_BOUNDS;

/** The longest search text: query ids are at most 200 characters (QueryParser), the other ids shorter. */
export const FIND_MAX_CHARS = 200;

type Kind = 'query' | 'message' | 'conversation';
const KINDS: Kind[] = ['query', 'message', 'conversation'];

/**
 * Four sorted sets under the queues' hash tag (the prefix), like presence: one Redis Cluster slot,
 * one MULTI. `recent` is scored by time; the others are searched by member prefix (BYLEX), so an
 * index write is a handful of commands whatever the batch holds, not a few per question.
 */
export function findKey(prefix: string, kind: Kind | 'recent'): string {
  return `${prefix}:autopoll:find:${kind}`;
}

// Entries written before rejected questions were indexed had a job and a query id: still read.
const TailSchema = z.tuple([z.number().int().nonnegative(), z.string().min(1).nullable(), z.string().nullable(), z.number().int().positive(), z.string()]);

function tail(e: FindEntry): unknown[] {
  return [e.at, e.jobId, e.queryId, e.messageId, e.conversationId];
}

function idOf(e: FindEntry, kind: Kind): string | number | null {
  return kind === 'query' ? e.queryId : kind === 'message' ? e.messageId : e.conversationId;
}

/** `recent`'s member, and each kind's: the id first (JSON, so that no id is a prefix of another's member), then the time. */
export function entryMember(e: FindEntry, kind?: Kind): string {
  return JSON.stringify(kind ? [idOf(e, kind), ...tail(e)] : tail(e));
}

export function parseMember(member: string, kind?: Kind): FindEntry | undefined {
  try {
    const parsed = JSON.parse(member) as unknown[];
    const [at, jobId, queryId, messageId, conversationId] = TailSchema.parse(kind ? parsed.slice(1) : parsed);
    return { at, jobId, queryId, messageId, conversationId };
  } catch {
    return undefined;
  }
}

/**
 * The BYLEX range of an id's members, newest first: `(max`, `[min`. Times are 13 digits until
 * 2286, so their text sorts as their value; past the `,` comes a digit, below U+00FF.
 */
export function idRange(id: string | number): { max: string; min: string } {
  const head = `${JSON.stringify([id]).slice(0, -1)},`;
  return { max: `(${head}\u00ff`, min: `[${head}` };
}

/** The ids a search text may be: any text a query or conversation id, a whole number a message id too. */
export function searchKinds(q: string): Array<{ kind: Kind; id: string | number; limit: number }> {
  const found: Array<{ kind: Kind; id: string | number; limit: number }> = [
    { kind: 'query', id: q, limit: FIND_BOUNDS.perId },
    { kind: 'conversation', id: q, limit: FIND_BOUNDS.perConversation },
  ];
  if (/^[1-9]\d{0,15}$/.test(q)) found.push({ kind: 'message', id: Number(q), limit: FIND_BOUNDS.perId });
  return found;
}

/** A question as the index takes it: its job's id (null: rejected at take) and the ids it is found by. */
export interface IndexedJob {
  id: string | null;
  data: { queryId: string | null; messageId: number; conversationId: string };
}

/** Each kind's members of the entries (a rejected message without a query id has no `query` one). */
function membersOf(entries: FindEntry[], kind: Kind): string[] {
  return entries.filter((e) => idOf(e, kind) !== null).map((e) => entryMember(e, kind));
}

/**
 * Indexes question jobs about to be enqueued, and the questions rejected in the same take, in one
 * MULTI: each in the four sets, the sets given the retention as TTL. Past the bound in number or
 * age, the oldest entries leave all four (a second MULTI, only then). Written before the jobs are
 * added: a job that is enqueued is always findable, and an index that cannot be written fails the
 * enqueue, which the reconciler repeats (not a rejection's entry: the ledger keeps that one).
 */
export async function indexQuestions(redis: RedisConnection, prefix: string, jobs: IndexedJob[], now = Date.now(), bounds = FIND_BOUNDS): Promise<void> {
  if (!jobs.length) return;
  const entries = jobs.map(({ id, data }): FindEntry => ({ jobId: id, ...data, at: now }));
  const recent = findKey(prefix, 'recent');
  const cutoff = now - bounds.retentionMs;
  const ttl = Math.ceil(bounds.retentionMs / 1000);
  const multi = redis.multi().zadd(recent, ...entries.flatMap((e) => [now, entryMember(e)])).expire(recent, ttl);
  for (const kind of KINDS) {
    const members = membersOf(entries, kind);
    if (members.length) multi.zadd(findKey(prefix, kind), ...members.flatMap((m) => [0, m])).expire(findKey(prefix, kind), ttl);
  }
  multi.zrange(recent, '0', String(-(bounds.questions + 1))).zrangebyscore(recent, '-inf', String(cutoff));
  const results = await multi.exec();
  if (!results) throw new Error('the find index MULTI was discarded');
  const failed = results.find(([err]) => err !== null);
  if (failed) throw failed[0]!;
  const evicted = [...new Set([...(results.at(-2)![1] as string[]), ...(results.at(-1)![1] as string[])])];
  if (evicted.length) await evict(redis, prefix, evicted);
}

async function evict(redis: RedisConnection, prefix: string, members: string[]): Promise<void> {
  const entries = members.map((m) => parseMember(m)).filter((e) => e !== undefined);
  const multi = redis.multi().zrem(findKey(prefix, 'recent'), ...members);
  for (const kind of KINDS) {
    const kindMembers = membersOf(entries, kind);
    if (kindMembers.length) multi.zrem(findKey(prefix, kind), ...kindMembers);
  }
  await multi.exec();
}

/** The entries a search text names, newest first, each job once (its newest entry), each rejection once. */
export async function findEntries(redis: RedisConnection, prefix: string, q: string): Promise<FindEntry[]> {
  const searches = searchKinds(q);
  const pipeline = redis.pipeline();
  for (const { kind, id, limit } of searches) {
    const { max, min } = idRange(id);
    pipeline.zrevrangebylex(findKey(prefix, kind), max, min, 'LIMIT', 0, limit);
  }
  // Keyed by job; a rejection, indexed once, by its `recent` member.
  const found = new Map<string, FindEntry>();
  const results = (await pipeline.exec()) ?? [];
  results.forEach(([err, members], i) => {
    if (err) throw err;
    for (const member of members as string[]) {
      const e = parseMember(member, searches[i]!.kind);
      if (!e) continue;
      const key = e.jobId ?? entryMember(e);
      if ((found.get(key)?.at ?? -1) < e.at) found.set(key, e);
    }
  });
  return [...found.values()].sort((a, b) => b.at - a.at);
}
