import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/bridge.js';
import { findOutsideReferences } from '../support/outsideReferences.js';

const SELF = 'test/unit/standalone.test.ts';
/** Absolute paths are spelt in pieces, so that a grep of the repository for them finds none. */
const abs = (...parts: string[]) => `/${parts.join('/')}`;
const refs = (file: string, text: string, workspace: string | null = null) => findOutsideReferences(file, text, workspace).map((f) => f.ref);

describe('the repository stands alone', () => {
  it('no file git tracks (or would track) refers to a path outside the repository', () => {
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
    expect(files).toContain('README.md');
    const findings = files.flatMap((file) => {
      const path = join(REPO, file);
      // A link is judged by where it points (reading it would read its target); a folder holds no text.
      if (lstatSync(path).isSymbolicLink()) return linkOutside(file, readlinkSync(path));
      if (lstatSync(path).isDirectory()) return [];
      const bytes = readFileSync(path);
      // Binary files (docs/board.png) hold no paths.
      return bytes.includes(0) ? [] : findOutsideReferences(file, bytes.toString('utf8'), dirname(REPO));
    });
    // This file's examples below are offending references on purpose.
    expect(findings.filter((f) => f.file !== SELF)).toEqual([]);
  });
});

function linkOutside(file: string, target: string) {
  const inside = !relative(REPO, resolve(REPO, dirname(file), target)).startsWith('..');
  return inside ? [] : [{ file, line: 0, ref: target, why: 'a symbolic link out of the repository' }];
}

describe('findOutsideReferences', () => {
  it('resolves module specifiers against the importing file', () => {
    expect(refs('src/producer/a.ts', "import { x } from '../shared/redis.js';")).toEqual([]);
    expect(refs('src/a.ts', "import { x } from '../../shared/redis.js';\nconst y = await import('../../y.js');")).toEqual(['../../shared/redis.js', '../../y.js']);
  });

  it('resolves paths built from the file folder or the repository root', () => {
    expect(refs('test/support/bridge.ts', "const REPO = resolve(here, '../..');\nconst S = resolve(REPO, 'test/fixtures/bridge/schema.sql');")).toEqual([]);
    // What test/support/bridge.ts read before the schema became a fixture.
    expect(refs('test/support/bridge.ts', "export const SHARED_SCHEMA = resolve(REPO, '../shared/bridge/schema.sql');")).toEqual(['../shared/bridge/schema.sql']);
    expect(refs('test/unit/a.ts', "join(here, '..', '..', '..', 'x')")).toEqual(['../../../x']);
    expect(refs('test/a.ts', 'const f = `${REPO}/../shared/x`;')).toEqual(['./../shared/x']);
    expect(refs('bench/a.ts', "new URL('../../x.json', import.meta.url)")).toEqual(['../../x.json']);
  });

  it('leaves paths that are data alone: hostile inputs the code under test must refuse', () => {
    expect(refs('test/unit/a.ts', "await reader.read('../../etc/passwd');\ncontext(j('../'.repeat(12) + 'etc/passwd'));")).toEqual([]);
    expect(refs('test/unit/a.ts', "const files = ['src/*', '../**'];\nconst u = 'https://x/y'; // `../` must not escape")).toEqual([]);
  });

  it('reads comments as prose: a climbing path must stay inside from the file folder and from the root', () => {
    expect(refs('src/producer/a.ts', '/** The schema, from ../shared/bridge/schema.sql. */')).toEqual(['../shared/bridge/schema.sql']);
    expect(refs('src/a.ts', 'x(); // see ../../notes.md')).toEqual(['../../notes.md']);
  });

  it('resolves markdown links against the document and checks climbing paths in its prose', () => {
    expect(refs('docs/bridge/PROTOCOL.md', '[schema.sql](../../test/fixtures/bridge/schema.sql)\n[up](../ARCHITECTURE.md#x)')).toEqual([]);
    expect(refs('docs/bridge/PROTOCOL.md', 'See [x](../../../shared/x.md) and ![y](<../../../y.png>).\n\n[z]: ../../../z.md')).toEqual(['../../../shared/x.md', '../../../y.png', '../../../z.md']);
    expect(refs('README.md', '[a](https://example.com/a/../../b) [b](#install)')).toEqual([]);
    // What docs/ARCHITECTURE.md said before the protocol notes moved in.
    expect(refs('docs/ARCHITECTURE.md', 'bridge is a SQLite file (`../shared/bridge/` in the workspace: PROTOCOL.md, schema.sql)')).toEqual(['../shared/bridge/']);
  });

  it('resolves relative paths in scripts and configs against their folder and the root they run from', () => {
    expect(refs('docker-compose.yml', 'build: .\nvolumes:\n  - ./data/context:/context:ro')).toEqual([]);
    expect(refs('docker-compose.yml', 'build: ..\nvolumes:\n  - ../shared:/shared')).toEqual(['..', '../shared']);
    expect(refs('Dockerfile', 'COPY ../shared/schema.sql /app/')).toEqual(['../shared/schema.sql']);
    expect(refs('.ci/run', 'cd "$(dirname "$0")/.."\ncat ../shared/bridge/PROTOCOL.md')).toEqual(['../shared/bridge/PROTOCOL.md']);
  });

  it('finds absolute paths into this machine and into the folder the repository sits in', () => {
    expect(refs('bench/oldMessages.ts', `context_file: '${abs('work', 'SESSION-RESUME.md')}'`)).toEqual([abs('work', 'SESSION-RESUME.md')]);
    expect(refs('README.md', `cd ${abs('root', 'autopoll')} && ls ${abs('home', 'me', 'x')}`)).toEqual([abs('root', 'autopoll'), abs('home', 'me', 'x')]);
    expect(refs('a.md', `${abs('srv', 'ws', 'shared', 'x')} and ${abs('srv', 'wsother')}`, abs('srv', 'ws'))).toEqual([abs('srv', 'ws', 'shared', 'x')]);
  });

  it('leaves the container home, URLs, temp files and bare system folders alone', () => {
    expect(refs('Dockerfile', `ENV HOME=${abs('home', 'node')}\n# ${abs('home', 'node', '.claude')}`)).toEqual([]);
    expect(refs('README.md', `<https://github.com${abs('home', 'x')}> ${abs('tmp', 'demo', 'bridge.db')} /etc/passwd ${abs('home')}`)).toEqual([]);
  });
});
