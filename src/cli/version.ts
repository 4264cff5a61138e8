import { readFileSync } from 'node:fs';

/**
 * autopoll's version, from its package.json (two folders above this file, in src/cli and in
 * dist/cli alike, and in the Docker image). Read as a file: importing it would need JSON modules,
 * and nothing else is loaded for it.
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
