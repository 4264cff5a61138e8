import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/bridge.js';
import { relativeSpecifiers as importsOf } from '../support/outsideReferences.js';
import { partOf, forbiddenImports, type Rule } from '../support/structure.js';

/**
 * The house rules of docs/ARCHITECTURE.md ("Parts and the imports that must never be"), checked
 * on the code as it is: a refactor that lets a role reach into another fails here, not in review.
 */
const NEVER: Rule[] = [
  { from: 'consumer', to: ['producer', 'bridge'], why: 'consumers never open the bridge file' },
  { from: 'producer', to: ['consumer'], why: 'the bridge side knows nothing of Claude' },
  { from: 'board', to: ['consumer', 'producer'], why: 'the board reads events and the bridge layer, not the roles' },
  { from: 'ops', to: ['consumer'], why: 'operator commands need no Claude code' },
  { from: 'bridge', to: ['producer', 'consumer', 'board', 'ops', 'doctor', 'cli'], why: 'the bridge layer is below every role' },
  { from: 'shared', to: ['bridge', 'producer', 'consumer', 'board', 'ops', 'doctor', 'cli'], why: 'shared is the ground floor' },
  { from: 'producer', to: ['cli'], why: 'no role imports the CLI' },
  { from: 'consumer', to: ['cli'], why: 'no role imports the CLI' },
  { from: 'board', to: ['cli'], why: 'no role imports the CLI' },
  { from: 'ops', to: ['cli'], why: 'no role imports the CLI' },
  { from: 'doctor', to: ['cli'], why: 'no role imports the CLI' },
];

/** Longest file allowed, by folder: past it a file holds more than one concern. */
const MAX_LINES: Array<[folder: string, lines: number]> = [
  ['src', 300],
  ['bench', 400],
  ['test/support', 400],
  ['test/chaos/support', 400],
];

function tsFiles(folder: string): string[] {
  const root = join(REPO, folder);
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => relative(REPO, join(root, f)));
}

describe('the structure of the code', () => {
  it('no part imports a part it must never import', () => {
    const broken = tsFiles('src').flatMap((file) => {
      const targets = importsOf(readFileSync(join(REPO, file), 'utf8')).map((spec) => relative(REPO, resolve(REPO, dirname(file), spec)));
      return forbiddenImports(file, targets, NEVER);
    });
    expect(broken).toEqual([]);
  });

  it('no file is longer than its folder allows', () => {
    const long = MAX_LINES.flatMap(([folder, max]) =>
      tsFiles(folder)
        // A nested folder with a rule of its own is judged by that rule.
        .filter((file) => MAX_LINES.every(([other]) => other === folder || !other.startsWith(`${folder}/`) || !file.startsWith(`${other}/`)))
        .map((file) => ({ file, lines: readFileSync(join(REPO, file), 'utf8').split('\n').length - 1, max }))
        .filter((f) => f.lines > f.max),
    );
    expect(long).toEqual([]);
  });

  it('one harness: bench imports only the harness of test/, chaos no bench file, the default suite no chaos file', () => {
    // test/support is the harness tests and benchmarks share; a unit test may test bench code (benchReport).
    const crossing = (file: string, target: string) =>
      (file.startsWith('bench/') && target.startsWith('test/') && !target.startsWith('test/support/')) ||
      (file.startsWith('test/chaos/') && target.startsWith('bench/')) ||
      (/^test\/(integration|e2e|support)\//.test(file) && target.startsWith('test/chaos/'));
    const offending = [...tsFiles('bench'), ...tsFiles('test')].flatMap((file) =>
      importsOf(readFileSync(join(REPO, file), 'utf8'))
        .map((spec) => relative(REPO, resolve(REPO, dirname(file), spec)))
        .filter((target) => crossing(file, target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(offending).toEqual([]);
  });
});

describe('the imports a file makes, and those a rule forbids', () => {
  it('finds static, type-only, re-export and dynamic imports, not package ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "const d = await import('./d.js');",
      "import { z } from 'zod';",
      "import {\n  e,\n  f,\n} from '../e.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b.js', './c.js', './d.js', '../e.js']);
  });

  it('names the part of a file and each import that breaks a rule', () => {
    expect(partOf('src/bridge/Ledger.ts')).toBe('bridge');
    expect(partOf('src/cli/main.ts')).toBe('cli');
    expect(partOf('test/unit/x.ts')).toBeNull();
    expect(forbiddenImports('src/board/metrics.ts', ['src/consumer/Consumer.js', 'src/shared/redis.js'], NEVER)).toEqual([
      'src/board/metrics.ts -> src/consumer/Consumer.js: the board reads events and the bridge layer, not the roles',
    ]);
    expect(forbiddenImports('src/cli/main.ts', ['src/consumer/Consumer.js'], NEVER)).toEqual([]);
  });
});
