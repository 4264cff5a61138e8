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
  /** When the job was last enqueued (ms since the epoch). */
  at: number;
}

/**
 * Bounded as the questions queue is: an entry lives as long as a failed job stays (30 days), and
 * the index holds the newest 20,000 questions (the completed plus failed jobs the queue keeps),
 * a conversation its newest 200, a reused query or message id its newest 20.
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

/** Under the queues' hash tag (the prefix), like presence: one Redis Cluster slot, one MULTI. */
export function findKey(prefix: string, kind: Kind | 'recent', id = ''): string {
  return `${prefix}:autopoll:find:${kind}${kind === 'recent' ? '' : `:${id}`}`;
}

const MemberSchema = z.object({ j: z.string().min(1), q: z.string(), m: z.number().int().positive(), c: z.string() });

/** The sorted sets' member: the same text for the same job, so enqueuing it again only moves its score. */
export function entryMember(e: Omit<FindEntry, 'at'>): string {
  return JSON.stringify({ j: e.jobId, q: e.queryId, m: e.messageId, c: e.conversationId });
}

export function parseMember(member: string, at: number): FindEntry | undefined {
  try {
    const m = MemberSchema.parse(JSON.parse(member));
    return { jobId: m.j, queryId: m.q, messageId: m.m, conversationId: m.c, at };
  } catch {
    return undefined;
  }
}

/** The keys an entry is listed under, with how many entries each keeps. */
export function entryKeys(prefix: string, e: Omit<FindEntry, 'at' | 'jobId'>, bounds: FindBounds): Array<{ key: string; cap: number }> {
  return [
    { key: findKey(prefix, 'query', e.queryId), cap: bounds.perId },
    { key: findKey(prefix, 'message', String(e.messageId)), cap: bounds.perId },
    { key: findKey(prefix, 'conversation', e.conversationId), cap: bounds.perConversation },
  ];
}

/** The keys a search text may name: any text a query or conversation id, a whole number a message id too. */
export function searchKeys(prefix: string, q: string): string[] {
  const keys = [findKey(prefix, 'query', q), findKey(prefix, 'conversation', q)];
  if (/^[1-9]\d{0,15}$/.test(q)) keys.push(findKey(prefix, 'message', q));
  return keys;
}

interface Enqueued {
  id: string;
  data: { queryId: string; messageId: number; conversationId: string };
}

/**
 * Indexes question jobs about to be enqueued, in one MULTI: each entry under its three keys and
 * the `recent` set, each key trimmed to its cap and its age and given the retention as TTL. Past
 * the global bound, the oldest entries leave every key they are under (a second MULTI, only then).
 * Written before the jobs are added: a job that is enqueued is always findable, and an index
 * that cannot be written fails the enqueue, which the reconciler then does again.
 */
export async function indexQuestions(redis: RedisConnection, prefix: string, jobs: Enqueued[], now = Date.now(), bounds = FIND_BOUNDS): Promise<void> {
  if (!jobs.length) return;
  const recent = findKey(prefix, 'recent');
  const cutoff = now - bounds.retentionMs;
  const ttl = Math.ceil(bounds.retentionMs / 1000);
  const multi = redis.multi();
  const touched = new Map<string, number>();
  for (const { id, data } of jobs) {
    const member = entryMember({ jobId: id, ...data });
    multi.zadd(recent, now, member);
    for (const { key, cap } of entryKeys(prefix, data, bounds)) {
      multi.zadd(key, now, member);
      touched.set(key, cap);
    }
  }
  for (const [key, cap] of touched) multi.zremrangebyscore(key, '-inf', String(cutoff)).zremrangebyrank(key, 0, -(cap + 1)).expire(key, ttl);
  multi.expire(recent, ttl);
  multi.zrange(recent, '0', String(-(bounds.questions + 1)));
  multi.zrangebyscore(recent, '-inf', String(cutoff));
  const results = await multi.exec();
  if (!results) throw new Error('the find index MULTI was discarded');
  const failed = results.find(([err]) => err !== null);
  if (failed) throw failed[0]!;
  const evicted = new Set([...(results.at(-2)![1] as string[]), ...(results.at(-1)![1] as string[])]);
  if (evicted.size) await evict(redis, prefix, [...evicted], bounds);
}

async function evict(redis: RedisConnection, prefix: string, members: string[], bounds: FindBounds): Promise<void> {
  const multi = redis.multi().zrem(findKey(prefix, 'recent'), ...members);
  for (const member of members) {
    const e = parseMember(member, 0);
    if (e) for (const { key } of entryKeys(prefix, e, bounds)) multi.zrem(key, member);
  }
  await multi.exec();
}

/** The entries a search text names, newest first, each job once. */
export async function findEntries(redis: RedisConnection, prefix: string, q: string): Promise<FindEntry[]> {
  const pipeline = redis.pipeline();
  for (const key of searchKeys(prefix, q)) pipeline.zrange(key, '0', '-1', 'WITHSCORES');
  const found = new Map<string, FindEntry>();
  for (const [err, flat] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    const list = flat as string[];
    for (let i = 0; i < list.length; i += 2) {
      const e = parseMember(list[i]!, Number(list[i + 1]));
      if (e) found.set(e.jobId, e);
    }
  }
  return [...found.values()].sort((a, b) => b.at - a.at);
}
