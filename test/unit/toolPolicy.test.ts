import { symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CanUseTool, PermissionResult } from '@anthropic-ai/claude-agent-sdk';
import { READ_ONLY_TOOLS, readOnlyPolicy } from '../../src/consumer/claude/toolPolicy.js';
import { tempDir } from '../support/bridge.js';

const ROOT = resolve(tempDir('autopoll-policy-'));
const policy = readOnlyPolicy(ROOT);

/** Runs a policy as the SDK would; a null answer (no decision) fails the test. */
async function run(p: CanUseTool, toolName: string, input: Record<string, unknown>): Promise<PermissionResult> {
  const r = await p(toolName, input, { signal: new AbortController().signal, toolUseID: 'toolu_test', requestId: 'req_test' });
  if (!r) throw new Error(`the policy gave no decision for ${toolName}`);
  return r;
}

function check(toolName: string, input: Record<string, unknown>): Promise<PermissionResult> {
  return run(policy, toolName, input);
}

async function expectAllowed(toolName: string, input: Record<string, unknown>): Promise<void> {
  const r = await check(toolName, input);
  expect(r.behavior).toBe('allow');
  if (r.behavior === 'allow') expect(r.updatedInput).toEqual(input);
}

async function expectDenied(toolName: string, input: Record<string, unknown>): Promise<string> {
  const r = await check(toolName, input);
  expect(r.behavior).toBe('deny');
  if (r.behavior !== 'deny') throw new Error('unreachable');
  expect(r.message.length).toBeGreaterThan(0);
  return r.message;
}

describe('readOnlyPolicy: tools', () => {
  it('lists exactly Read, Grep and Glob as the read-only tools', () => {
    expect([...READ_ONLY_TOOLS].sort()).toEqual(['Glob', 'Grep', 'Read']);
  });

  it('allows Read, Grep and Glob inside the root', async () => {
    await expectAllowed('Read', { file_path: join(ROOT, 'notes.md') });
    await expectAllowed('Grep', { pattern: 'TODO', path: join(ROOT, 'src') });
    await expectAllowed('Glob', { pattern: '**/*.md', path: ROOT });
  });

  it('allows Grep and Glob without a path (they search the root, the cwd)', async () => {
    await expectAllowed('Grep', { pattern: 'x' });
    await expectAllowed('Glob', { pattern: '*.ts' });
  });

  it.each([
    ['Bash', { command: 'cat /etc/passwd' }],
    ['Write', { file_path: join(ROOT, 'a.md'), content: 'x' }],
    ['Edit', { file_path: join(ROOT, 'a.md'), old_string: 'a', new_string: 'b' }],
    ['MultiEdit', { file_path: join(ROOT, 'a.md'), edits: [] }],
    ['NotebookEdit', { notebook_path: join(ROOT, 'a.ipynb'), new_source: '' }],
    ['WebFetch', { url: 'https://example.com', prompt: 'x' }],
    ['WebSearch', { query: 'x' }],
    ['Task', { prompt: 'x', description: 'x' }],
    ['mcp__bridge__send', {}],
  ])('denies %s even on paths inside the root', async (tool, input) => {
    const message = await expectDenied(tool, input);
    expect(message).toContain(tool);
    expect(message).toContain('not available');
  });

  it('tool names are matched exactly (case-sensitive)', async () => {
    await expectDenied('read', { file_path: join(ROOT, 'a.md') });
    await expectDenied('READ', { file_path: join(ROOT, 'a.md') });
    await expectDenied('Read ', { file_path: join(ROOT, 'a.md') });
  });
});

describe('readOnlyPolicy: paths', () => {
  it('denies absolute paths outside the root', async () => {
    const message = await expectDenied('Read', { file_path: '/etc/passwd' });
    expect(message).toContain('/etc/passwd');
    expect(message).toContain('outside the context root');
  });

  it('denies relative paths that climb out of the root', async () => {
    expect(await expectDenied('Read', { file_path: '../x' })).toContain('../x');
    await expectDenied('Read', { file_path: 'sub/../../x' });
    await expectDenied('Read', { file_path: `${ROOT}/../x` });
  });

  it('resolves relative paths against the root', async () => {
    await expectAllowed('Read', { file_path: 'notes.md' });
    await expectAllowed('Read', { file_path: './docs/guide.md' });
    await expectAllowed('Read', { file_path: 'a/../b.md' });
  });

  it('allows the root itself', async () => {
    await expectAllowed('Grep', { pattern: 'x', path: ROOT });
    await expectAllowed('Glob', { pattern: '*', path: '.' });
  });

  it('denies a sibling directory that shares the root as a prefix', async () => {
    await expectDenied('Read', { file_path: `${ROOT}x/secret.md` });
    await expectDenied('Read', { file_path: `${ROOT}-other/secret.md` });
  });

  it('checks the path of Grep and Glob too', async () => {
    expect(await expectDenied('Grep', { pattern: 'x', path: '/etc' })).toContain('/etc');
    await expectDenied('Glob', { pattern: '*', path: '..' });
    await expectDenied('Grep', { pattern: 'password', path: '/home' });
  });

  it('checks notebook_path', async () => {
    await expectDenied('Read', { notebook_path: '/tmp/../etc/x.ipynb' });
  });

  it('denies when any one path key is outside, even if another is inside', async () => {
    await expectDenied('Read', { file_path: join(ROOT, 'a.md'), path: '/etc' });
    await expectDenied('Grep', { pattern: 'x', path: join(ROOT, 'a'), file_path: '/etc/shadow' });
  });

  it('works with a root given with a trailing slash', async () => {
    const p = readOnlyPolicy(`${ROOT}/`);
    expect((await run(p, 'Read', { file_path: join(ROOT, 'a.md') })).behavior).toBe('allow');
    expect((await run(p, 'Read', { file_path: '/etc/passwd' })).behavior).toBe('deny');
  });

  it('two policies with different roots are independent', async () => {
    const other = resolve(tempDir('autopoll-policy-other-'));
    const p = readOnlyPolicy(other);
    expect((await run(p, 'Read', { file_path: join(other, 'a.md') })).behavior).toBe('allow');
    expect((await run(p, 'Read', { file_path: join(ROOT, 'a.md') })).behavior).toBe('deny');
    await expectDenied('Read', { file_path: join(other, 'a.md') });
  });
});

describe('readOnlyPolicy: patterns, home and links', () => {
  it('denies glob patterns that reach out of the root, ~ paths and links that point out', async () => {
    const base = tempDir('policy-');
    const outside = tempDir('policy-out-');
    writeFileSync(join(outside, 'secret.txt'), 'x');
    symlinkSync(join(outside, 'secret.txt'), join(base, 'link.txt'));
    const policy = readOnlyPolicy(base);
    const opts = { signal: new AbortController().signal, toolUseID: 't', requestId: 'r' } as unknown as Parameters<typeof policy>[2];
    const decide = async (tool: string, input: Record<string, unknown>) => (await policy(tool, input, opts))?.behavior;
    expect(await decide('Glob', { pattern: '/etc/*' })).toBe('deny');
    expect(await decide('Glob', { pattern: '../**' })).toBe('deny');
    expect(await decide('Grep', { pattern: 'x', glob: '/etc/*' })).toBe('deny');
    expect(await decide('Read', { file_path: '~/.ssh/id_rsa' })).toBe('deny');
    expect(await decide('Read', { file_path: join(base, 'link.txt') })).toBe('deny');
    expect(await decide('Read', { file_path: 42 })).toBe('deny');
    expect(await decide('Glob', { pattern: 'src/**/*.ts' })).toBe('allow');
    expect(await decide('Read', { file_path: '..foo' })).toBe('allow');
  });
});

describe('readOnlyPolicy: autopoll own files, by identity', () => {
  it('denies a hard link to the bridge file (by device and inode) and any file holding SQLite pages', async () => {
    const { linkSync } = await import('node:fs');
    const bridgeDir = resolve(tempDir('autopoll-policy-bridge-'));
    const bridge = join(bridgeDir, 'bridge.db');
    writeFileSync(bridge, 'plain text standing for the bridge\n');
    const root = resolve(tempDir('autopoll-policy-'));
    linkSync(bridge, join(root, 'notes.md'));
    writeFileSync(join(root, 'other.db'), Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(100)]));
    writeFileSync(join(root, 'fine.md'), 'fine\n');
    const p = readOnlyPolicy(root, { files: [{ path: bridge, kind: 'bridge' }], dirs: [] });
    expect(await run(p, 'Read', { file_path: join(root, 'notes.md') })).toMatchObject({ behavior: 'deny', message: expect.stringMatching(/is the bridge database/) });
    expect(await run(p, 'Grep', { pattern: 'x', path: join(root, 'other.db') })).toMatchObject({ behavior: 'deny', message: expect.stringMatching(/holds SQLite pages/) });
    expect((await run(p, 'Read', { file_path: join(root, 'fine.md') })).behavior).toBe('allow');
  });
});
