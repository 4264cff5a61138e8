/**
 * Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=1): the functions with the most self time
 * (idle and GC included), then autopoll's own functions by inclusive time (self + callees).
 * Time spent blocked in a native call (SQLite's busy handler sleeping, say) counts as the
 * calling function's, not as idle.
 *   npx tsx bench/cpuprofile.ts bench/results/profiles/empty-producer.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from '../test/support/bridge.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const perFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${relative(REPO, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
  }
  const sorted = [...perFunction.entries()].sort((a, b) => b[1] - a[1]);
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`.padStart(6);
  const lines = [`${file}: ${(total / 1e6).toFixed(1)} s sampled`, 'self time:'];
  for (const [name, us] of sorted.slice(0, top)) lines.push(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);

  // Inclusive time of the project's own functions: each sample counts once per function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode) => {
    const f = n.callFrame;
    if (!f.url.includes('/dist/') && !f.url.includes('/src/')) return undefined;
    return `${f.functionName || '(anonymous)'} ${relative(REPO, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}`;
  };
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const keys = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = keyOf(byId.get(at)!);
      if (k) keys.add(k);
    }
    for (const k of keys) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
  lines.push('inclusive time, autopoll code:');
  for (const [name, us] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${pct(us)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: tsx bench/cpuprofile.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarise(file, Number(top ?? 25))}\n`);
}
