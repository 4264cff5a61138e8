import { link, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextReader, numberLines, type ContextResult } from '../../src/producer/ContextReader.js';
import { ownedFiles } from '../../src/shared/ownedFiles.js';

let base: string; // realpath of a fresh temp dir
let root: string; // base/root, the context root
let outside: string; // base/outside, a sibling of the root

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'autopoll-ctx-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(join(root, 'docs'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'SESSION-RESUME.md'), 'first line\nsecond line\nthird line\n');
  await writeFile(join(root, 'docs', 'notes.md'), 'alpha\nbeta');
  await writeFile(join(root, 'big.txt'), '0123456789\n'.repeat(100)); // 1100 bytes
  await writeFile(join(outside, 'secret.txt'), 'TOP SECRET\n');
  await writeFile(join(base, 'rootish.txt'), 'prefix sibling\n');
  await mkdir(join(base, 'root-evil'));
  await writeFile(join(base, 'root-evil', 'x.md'), 'evil\n');
  await symlink(join(outside, 'secret.txt'), join(root, 'leak.md'));
  await symlink(outside, join(root, 'outdir'));
  await symlink(join(root, 'docs', 'notes.md'), join(root, 'alias.md'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function ok(result: ContextResult) {
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  return result.context;
}

function refused(result: ContextResult): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.context)}`);
  return result.reason;
}

describe('numberLines', () => {
  it('numbers lines like cat -n: width 6, a tab, no trailing empty line', () => {
    expect(numberLines('a\nb\n')).toBe('     1\ta\n     2\tb');
    expect(numberLines('a\nb')).toBe('     1\ta\n     2\tb');
    expect(numberLines('a\n\nc\n')).toBe('     1\ta\n     2\t\n     3\tc');
  });

  it('keeps the width past 99999 lines', () => {
    const text = 'x\n'.repeat(1_000_000);
    const lines = numberLines(text).split('\n');
    expect(lines).toHaveLength(1_000_000);
    expect(lines[99_998]).toBe(' 99999\tx');
    expect(lines[999_999]).toBe('1000000\tx');
  });
});

describe('ContextReader.read', () => {
  it('reads a relative path inside the root, numbered', async () => {
    const ctx = ok(await new ContextReader(root, 10_000).read('SESSION-RESUME.md'));
    expect(ctx).toEqual({ path: 'SESSION-RESUME.md', text: '     1\tfirst line\n     2\tsecond line\n     3\tthird line', truncated: false });
  });

  it('reads a relative path in a subfolder, and one with a harmless ..', async () => {
    const reader = new ContextReader(root, 10_000);
    expect(ok(await reader.read('docs/notes.md'))).toEqual({ path: join('docs', 'notes.md'), text: '     1\talpha\n     2\tbeta', truncated: false });
    expect(ok(await reader.read('docs/../SESSION-RESUME.md')).path).toBe('SESSION-RESUME.md');
    expect(ok(await reader.read('./docs/notes.md')).path).toBe(join('docs', 'notes.md'));
  });

  it('reads an absolute path inside the root', async () => {
    const ctx = ok(await new ContextReader(root, 10_000).read(join(root, 'docs', 'notes.md')));
    expect(ctx.path).toBe(join('docs', 'notes.md'));
    expect(ctx.text).toBe('     1\talpha\n     2\tbeta');
  });

  it('follows a symlink that stays inside the root, reporting the real path', async () => {
    const ctx = ok(await new ContextReader(root, 10_000).read('alias.md'));
    expect(ctx.path).toBe(join('docs', 'notes.md'));
    expect(ctx.text).toContain('alpha');
  });

  it('refuses ../ escapes', async () => {
    const reader = new ContextReader(root, 10_000);
    for (const p of ['../outside/secret.txt', 'docs/../../outside/secret.txt', '../rootish.txt', '..', '../root-evil/x.md']) {
      const reason = refused(await reader.read(p));
      expect(reason, p).toContain('outside the context root');
      expect(reason).toContain(p);
      expect(reason).not.toContain('TOP SECRET');
    }
  });

  it('refuses absolute paths outside the root, including a sibling sharing its name as prefix', async () => {
    const reader = new ContextReader(root, 10_000);
    for (const p of [join(outside, 'secret.txt'), '/etc/passwd', join(base, 'root-evil', 'x.md'), base]) {
      expect(refused(await reader.read(p)), p).toContain('outside the context root');
    }
  });

  it('refuses a symlink inside the root that points outside', async () => {
    const reader = new ContextReader(root, 10_000);
    for (const p of ['leak.md', join(root, 'leak.md'), 'outdir/secret.txt']) {
      const reason = refused(await reader.read(p));
      expect(reason, p).toContain('symbolic link');
      expect(reason).not.toContain('TOP SECRET');
    }
  });

  it('refuses a missing file', async () => {
    const reason = refused(await new ContextReader(root, 10_000).read('nope.md'));
    expect(reason).toContain('nope.md');
    expect(reason).toContain('does not exist');
  });

  it('refuses a directory', async () => {
    const reader = new ContextReader(root, 10_000);
    expect(refused(await reader.read('docs'))).toMatch(/docs is not a regular file/);
    expect(refused(await reader.read('.'))).toContain('is not a regular file');
  });

  it('cuts the numbered text (what the job carries) at maxBytes, at a line end, and says so', async () => {
    const ctx = ok(await new ContextReader(root, 40).read('big.txt'));
    expect(ctx.truncated).toBe(true);
    expect(ctx.text).toBe('     1\t0123456789\n     2\t0123456789');
    expect(Buffer.byteLength(ctx.text)).toBeLessThanOrEqual(40);
  });

  it('is not truncated when the numbered text is exactly maxBytes or smaller', async () => {
    // 100 lines of "     N\t0123456789": 17 bytes each, 99 newlines between them.
    const exact = ok(await new ContextReader(root, 1799).read('big.txt'));
    expect(exact.truncated).toBe(false);
    expect(exact.text.split('\n')).toHaveLength(100);
    const cut = ok(await new ContextReader(root, 1798).read('big.txt'));
    expect(cut.truncated).toBe(true);
    expect(cut.text.split('\n')).toHaveLength(99);
  });

  it('cuts a single long line inside the cap, never inside a character', async () => {
    await writeFile(join(root, 'wide.txt'), 'é'.repeat(100));
    const ctx = ok(await new ContextReader(root, 20).read('wide.txt'));
    expect(ctx).toEqual({ path: 'wide.txt', text: `     1\t${'é'.repeat(6)}`, truncated: true });
  });

  it('accepts a relative root', async () => {
    const relRoot = relative(process.cwd(), root);
    expect(isAbsolute(relRoot)).toBe(false);
    const ctx = ok(await new ContextReader(relRoot, 1000).read('docs/notes.md'));
    expect(ctx.path).toBe(join('docs', 'notes.md'));
  });

  it('gives a clear reason when the root does not exist', async () => {
    const missing = join(base, 'no-such-root');
    const reader = new ContextReader(missing, 1000);
    const reason = refused(await reader.read('SESSION-RESUME.md'));
    expect(reason).toContain(missing);
    expect(reason).toContain('does not exist');
    expect(reason).toContain('AUTOPOLL_CONTEXT_ROOT');
    // Created later, the root works from the next read on.
    await mkdir(missing);
    await writeFile(join(missing, 'SESSION-RESUME.md'), 'now here\n');
    expect(ok(await reader.read('SESSION-RESUME.md')).text).toBe('     1\tnow here');
  });

  it('accepts an absolute path under a root that is itself a symlink', async () => {
    const linkRoot = join(base, 'linked-root');
    await symlink(root, linkRoot);
    const ctx = ok(await new ContextReader(linkRoot, 1000).read(join(linkRoot, 'docs', 'notes.md')));
    expect(ctx.path).toBe(join('docs', 'notes.md'));
  });

  it("refuses a hard link to Claude Code's credentials or global config (by identity), and tells of the first missing file once", async () => {
    const home = join(base, 'home');
    await mkdir(join(home, '.claude'), { recursive: true });
    await writeFile(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"refreshToken":"sk-ant-ort01-x"}}\n');
    await writeFile(join(home, '.claude.json'), '{"oauthAccount":{}}\n');
    await link(join(home, '.claude', '.credentials.json'), join(root, 'creds.md'));
    await link(join(home, '.claude.json'), join(root, 'config.md'));
    const missing: string[] = [];
    const reader = new ContextReader(root, 1000, ownedFiles(undefined, { HOME: home }), (file) => missing.push(file));
    for (const file of ['creds.md', 'config.md']) expect(refused(await reader.read(file))).toMatch(/is Claude Code's config or credentials/);
    expect(ok(await reader.read('docs/notes.md')).text).toContain('alpha');
    refused(await reader.read('gone.md'));
    refused(await reader.read('gone-too.md'));
    expect(missing).toEqual(['gone.md']);
  });
});
