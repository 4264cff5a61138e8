import express, { type Router } from 'express';
import { listConsumers } from '../shared/ConsumerPresence.js';
import type { RedisConnection } from '../shared/redis.js';
import { answeredRedisDown } from './redisReady.js';
import { consumersPage } from './consumersPage.js';

/**
 * GET /consumers: the consumers' presence in Redis, where `autopoll status` reads it, so a board
 * that reaches only Redis shows every consumer and its live/busy/max sessions. A browser gets the
 * page, scripts the JSON (`{ consumers }`, the entries of `status --json`). A read-only board
 * leaves stale entries for the next status or writable board to remove.
 */
export function consumersRoute(redis: RedisConnection, prefix: string, readOnly: boolean): Router {
  const router = express.Router();
  router.get('/consumers', async (_req, res) => {
    if (answeredRedisDown(redis, res, 'the consumers')) return;
    const now = Date.now();
    const consumers = await listConsumers(redis, prefix, now, !readOnly);
    // JSON first: it is what `*/*` (curl, fetch) gets; a browser names text/html above */*.
    res.format({
      json: () => res.json({ consumers }),
      html: () => res.send(consumersPage(consumers, now)),
    });
  });
  return router;
}
