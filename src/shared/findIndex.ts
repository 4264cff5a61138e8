import { z } from 'zod';
import { JOB_RETENTION } from './queues.js';
import type { RedisConnection } from './redis.js';

/**
 * The index the board's find reads (a board may reach only Redis, never the bridge file): query
 * id, message id and conversation id to the question jobs the producer enqueued. Each entry
 * names its job and its three ids (nothing else: no token, no question text), so a job that
 * retention removed is still shown, as gone.
 */
export interface FindEntry {
  jobId: string;
  queryId: string;
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

const TailSchema = z.tuple([z.number().int().nonnegative(), z.string().min(1), z.string(), z.number().int().positive(), z.string()]);

function tail(e: FindEntry): unknown[] {
  return [e.at, e.jobId, e.queryId, e.messageId, e.conversationId];
}

function idOf(e: FindEntry, kind: Kind): string | number {
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

/** A question job as the index takes it: its id and the ids it is found by. */
export interface IndexedJob {
  id: string;
  data: { queryId: string; messageId: number; conversationId: string };
}

/**
 * Indexes question jobs about to be enqueued, in one MULTI: each job in the four sets, the sets
 * given the retention as TTL. Past the bound in number or age, the oldest entries leave all four
 * (a second MULTI, only then). Written before the jobs are added: a job that is enqueued is always
 * findable, and an index that cannot be written fails the enqueue, which the reconciler repeats.
 */
export async function indexQuestions(redis: RedisConnection, prefix: string, jobs: IndexedJob[], now = Date.now(), bounds = FIND_BOUNDS): Promise<void> {
  if (!jobs.length) return;
  const entries = jobs.map(({ id, data }): FindEntry => ({ jobId: id, ...data, at: now }));
  const recent = findKey(prefix, 'recent');
  const cutoff = now - bounds.retentionMs;
  const ttl = Math.ceil(bounds.retentionMs / 1000);
  const multi = redis.multi().zadd(recent, ...entries.flatMap((e) => [now, entryMember(e)])).expire(recent, ttl);
  for (const kind of KINDS) multi.zadd(findKey(prefix, kind), ...entries.flatMap((e) => [0, entryMember(e, kind)])).expire(findKey(prefix, kind), ttl);
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
  if (entries.length) for (const kind of KINDS) multi.zrem(findKey(prefix, kind), ...entries.map((e) => entryMember(e, kind)));
  await multi.exec();
}

/** The entries a search text names, newest first, each job once (its newest entry). */
export async function findEntries(redis: RedisConnection, prefix: string, q: string): Promise<FindEntry[]> {
  const searches = searchKinds(q);
  const pipeline = redis.pipeline();
  for (const { kind, id, limit } of searches) {
    const { max, min } = idRange(id);
    pipeline.zrevrangebylex(findKey(prefix, kind), max, min, 'LIMIT', 0, limit);
  }
  const found = new Map<string, FindEntry>();
  const results = (await pipeline.exec()) ?? [];
  results.forEach(([err, members], i) => {
    if (err) throw err;
    for (const member of members as string[]) {
      const e = parseMember(member, searches[i]!.kind);
      if (e && (found.get(e.jobId)?.at ?? -1) < e.at) found.set(e.jobId, e);
    }
  });
  return [...found.values()].sort((a, b) => b.at - a.at);
}
