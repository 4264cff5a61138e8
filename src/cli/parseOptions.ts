import { z } from 'zod';
import { knownSecrets, secretsOf } from '../shared/knownSecrets.js';
import { hashTag, parseRedisTarget, type RedisTarget } from '../shared/redisTarget.js';
import { ConfigError, type Parsed, type Specs } from './options.js';
import * as optionValues from './optionValues.js';

/** Rules between flags, checked once each flag is valid on its own: the Redis URL's form and --redis-cluster, the Cluster's hash tag. */
function crossIssues(values: Record<string, unknown>): Array<{ path: PropertyKey[]; message: string }> {
  if (typeof values.redis !== 'string') return [];
  const cluster = values.redisCluster === true;
  const parsed = parseRedisTarget(values.redis, cluster);
  if ('error' in parsed) return [{ path: ['redis'], message: parsed.error }];
  if (cluster && typeof values.prefix === 'string' && hashTag(values.prefix) === undefined) {
    return [{
      path: ['prefix'],
      message: 'with --redis-cluster the prefix must be hash-tagged, e.g. {autopoll} or {myteam}: a non-empty {...} keeps all of a queue\'s keys in one Cluster slot, as BullMQ needs',
    }];
  }
  return [];
}

/** Validates commander's values against the specs (options.ts); the error says which flag or variable to fix. */
export function parseOptions<S extends Specs>(specs: S, values: Record<string, unknown>): Parsed<S> {
  const shape = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.schema(optionValues)]));
  const result = z.object(shape).safeParse(values);
  const issues = result.success ? crossIssues(result.data) : result.error.issues;
  if (result.success && !issues.length) {
    // From here on, no log line, job or answer of this process may hold them.
    knownSecrets.addAll(secretsOf(result.data, process.env));
    return result.data as Parsed<S>;
  }
  const lines = issues.map((issue) => {
    const spec = specs[String(issue.path[0])];
    const where = spec ? `${spec.flags.split(' ')[0]} (env ${spec.env})` : issue.path.join('.');
    return `  ${where}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** The Redis that validated `--redis` and `--redis-cluster` name. */
export function redisTarget(o: { redis: string; redisCluster: boolean }): RedisTarget {
  const parsed = parseRedisTarget(o.redis, o.redisCluster);
  if ('error' in parsed) throw new ConfigError(`invalid configuration:\n  --redis (env REDIS_URL): ${parsed.error}`);
  return parsed.target;
}
