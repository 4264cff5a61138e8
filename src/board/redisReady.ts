import type { Response } from 'express';
import type { RedisConnection } from '../shared/redis.js';

/**
 * Answers 503 at once, and says so (true), when Redis is not connected: the connection would queue
 * the route's read until Redis returns, and the request would hang meanwhile. `what` names what
 * could not be read.
 */
export function answeredRedisDown(redis: RedisConnection, res: Response, what: string): boolean {
  if (redis.status === 'ready') return false;
  res.status(503).json({ error: `Redis is not connected (${redis.status}): ${what} cannot be read` });
  return true;
}
