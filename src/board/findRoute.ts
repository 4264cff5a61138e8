import type { Queue } from 'bullmq';
import express, { type Router } from 'express';
import { z } from 'zod';
import { FIND_MAX_CHARS } from '../shared/findIndex.js';
import type { RedisConnection } from '../shared/redis.js';
import { answeredRedisDown } from './redisReady.js';
import { findJobs } from './findJobs.js';
import { findPage } from './findPage.js';

export function FindQuerySchema() {
  return z.object({
    q: z
      .string({ error: (i) => `q ${i.input === undefined ? 'is required' : 'must be given once'}: /find?q=<query id, message id or conversation id>` })
      .trim()
      .min(1, 'q is empty: give a query id, a message id or a conversation id')
      .max(FIND_MAX_CHARS, `q is longer than ${FIND_MAX_CHARS} characters: no query id, message id or conversation id is`),
  });
}

/**
 * GET /find?q=: the questions a query id, message id or conversation id names, from the index the
 * producer keeps in Redis (the board needs no bridge file). Scripts get the JSON list; a browser
 * the page with a search box, which without a `q` is all it shows.
 */
export function findRoute(redis: RedisConnection, prefix: string, queues: { questions: Queue; answers: Queue }): Router {
  const router = express.Router();
  router.get('/find', async (req, res) => {
    const parsed = FindQuerySchema().safeParse(req.query);
    if (!parsed.success) {
      const error = parsed.error.issues.map((i) => i.message).join('; ');
      const q = typeof req.query.q === 'string' ? req.query.q : '';
      return res.format({
        json: () => res.status(400).json({ error }),
        // A browser opening /find from the menu has asked nothing yet: the box alone.
        html: () => (req.query.q === undefined ? res.send(findPage({ q })) : res.status(400).send(findPage({ q, error }))),
      });
    }
    if (answeredRedisDown(redis, res, 'the index')) return;
    const { q } = parsed.data;
    const jobs = await findJobs(redis, prefix, queues, q);
    // JSON first: it is what `*/*` (curl, fetch) gets; a browser names text/html above */*.
    res.format({
      json: () => res.json(jobs),
      html: () => res.send(findPage({ q, jobs })),
    });
  });
  return router;
}
