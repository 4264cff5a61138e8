import { execFileSync } from 'node:child_process';

/**
 * Runs a Python 3 snippet that reads one JSON value from stdin (bound to `data`) and must assign
 * its result to `out`; returns `out` after a JSON round trip. stdin is written as UTF-8 JSON
 * (lone surrogates stay escaped), stdout is `json.dumps` output, so both directions are ASCII-safe.
 */
export function runPython(body: string, data: unknown): unknown {
  const script = [
    'import json, sys',
    "data = json.loads(sys.stdin.buffer.read().decode('utf-8'))",
    body,
    'sys.stdout.write(json.dumps(out))',
  ].join('\n');
  const stdout = execFileSync('python3', ['-c', script], { input: JSON.stringify(data), encoding: 'utf8' });
  return JSON.parse(stdout) as unknown;
}
