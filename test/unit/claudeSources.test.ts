import { describe, expect, it } from 'vitest';
import { extractSources } from '../../src/consumer/claude/sources.js';

describe('extractSources: what counts as a citation', () => {
  it.each([
    ['the old shard file', 'see SESSION-RESUME.md:82-86 for it', ['SESSION-RESUME.md:82-86']],
    ['a markdown file, single line', 'README.md:12 says so', ['README.md:12']],
    ['a TypeScript file', 'in index.ts:5', ['index.ts:5']],
    ['a Python file with a range', 'main.py:10-20', ['main.py:10-20']],
    ['a Rust file', 'lib.rs:1', ['lib.rs:1']],
    ['a JSON file', 'package.json:3', ['package.json:3']],
    ['a YAML file', 'config.yaml:44-45', ['config.yaml:44-45']],
    ['a long extension', 'Component.component:9', ['Component.component:9']],
    ['a digit in the extension', 'video.mp4:1', ['video.mp4:1']],
    ['several dots in the name', 'file.test.ts:4', ['file.test.ts:4']],
    ['dashes and underscores', 'my-file_name.spec.tsx:100-200', ['my-file_name.spec.tsx:100-200']],
    ['an upper-case extension', 'NOTES.TXT:2', ['NOTES.TXT:2']],
  ])('%s', (_name, answer, expected) => {
    expect(extractSources(answer)).toEqual(expected);
  });

  it.each([
    ['a nested path', 'src/consumer/claude/sources.ts:7', ['src/consumer/claude/sources.ts:7']],
    ['a path with dots and dashes in folders', 'docs/v2.0/my-guide/intro.md:3-8', ['docs/v2.0/my-guide/intro.md:3-8']],
    ['a ./ relative path', './rel/file.ts:4', ['./rel/file.ts:4']],
    ['a ../ relative path', '../up/file.ts:4', ['../up/file.ts:4']],
  ])('paths: %s', (_name, answer, expected) => {
    expect(extractSources(answer)).toEqual(expected);
  });

  it.each([
    ['parentheses', 'as documented (SESSION-RESUME.md:82-86).', ['SESSION-RESUME.md:82-86']],
    ['square brackets', 'see [src/app/main.ts:10]', ['src/app/main.ts:10']],
    ['backticks', 'at `lib/x.py:3-4`', ['lib/x.py:3-4']],
    ['double quotes', 'the file "a/b.go:12" has it', ['a/b.go:12']],
    ['a markdown link text', '[notes.md:5](notes.md)', ['notes.md:5']],
    ['end of sentence', 'It is in CHANGELOG.md:99.', ['CHANGELOG.md:99']],
    ['followed by a comma', 'x.md:1, then more', ['x.md:1']],
    ['at the start of a line', 'a.md:1\nb.md:2', ['a.md:1', 'b.md:2']],
  ])('delimited by %s', (_name, answer, expected) => {
    expect(extractSources(answer)).toEqual(expected);
  });

  it('finds several citations on one line, in order of appearance', () => {
    expect(extractSources('See a.md:1, b.rs:2 and (c.go:3-9) plus `d/e.py:10`.')).toEqual([
      'a.md:1',
      'b.rs:2',
      'c.go:3-9',
      'd/e.py:10',
    ]);
  });

  it('finds citations across lines', () => {
    const answer = 'First (docs/one.md:1-2).\nSecond [src/two.ts:30].\n\nThird three.yaml:4';
    expect(extractSources(answer)).toEqual(['docs/one.md:1-2', 'src/two.ts:30', 'three.yaml:4']);
  });

  it('de-duplicates, keeping the order of first appearance', () => {
    expect(extractSources('b.md:2 a.md:1 b.md:2 (a.md:1) c.md:3 b.md:2')).toEqual(['b.md:2', 'a.md:1', 'c.md:3']);
  });

  it('keeps the same file with different lines or ranges as distinct sources', () => {
    expect(extractSources('a.md:1 a.md:1-3 a.md:2 a.md:1-3')).toEqual(['a.md:1', 'a.md:1-3', 'a.md:2']);
  });

  it('keeps the same name under different folders as distinct sources', () => {
    expect(extractSources('x/index.ts:1 y/index.ts:1 index.ts:1')).toEqual(['x/index.ts:1', 'y/index.ts:1', 'index.ts:1']);
  });

  it('returns an empty array when there are no citations', () => {
    expect(extractSources('')).toEqual([]);
    expect(extractSources('No file is cited here at all.')).toEqual([]);
  });
});

describe('extractSources: what is not a citation', () => {
  it.each([
    ['a version and a time', 'version 1.2:30'],
    ['a dotted number', 'at 10.30:15'],
    ['a plain time', 'meet at 12:30 today'],
    ['a multi-part version', 'release 1.2.3:4'],
    ['localhost with a port', 'localhost:3000'],
    ['a URL with localhost', 'open http://localhost:3000/x'],
    ['a URL with a host and port', 'https://example.com:443/path'],
    ['an IP and port', '192.168.0.1:8080'],
    ['a file name without an extension', 'README:12 or Makefile:3'],
    ['a space after the colon', 'foo.md: 12'],
    ['letters glued to the line number', 'foo.md:12abc'],
    ['no line number', 'foo.md: the file'],
    ['an scp-style git remote', 'git@github.com:owner/repo.git'],
  ])('%s', (_name, answer) => {
    expect(extractSources(answer)).toEqual([]);
  });

  it('ignores versions and times but keeps real citations beside them', () => {
    expect(extractSources('Since 1.2:30 (and at 10.30:15), see guide.md:4-5 and http://localhost:3000/a.md')).toEqual([
      'guide.md:4-5',
    ]);
  });

  it('stops a range at its second number', () => {
    expect(extractSources('foo.md:12-')).toEqual(['foo.md:12']);
    expect(extractSources('foo.md:12:5')).toEqual(['foo.md:12']);
  });
});

describe('extractSources: hosts and absolute paths', () => {
  it('does not take host:port for file:line', () => {
    for (const text of ['connect to example.com:443 now', 'www.example.com:8080', 'user@host.com:22', 'api.example.io:3000']) {
      expect(extractSources(text), text).toEqual([]);
    }
    expect(extractSources('see src/app.io:12 and example.com:443')).toEqual(['src/app.io:12']);
  });

  it('takes absolute paths, and cuts a range at its second number', () => {
    expect(extractSources('read /abs/path/file.ts:4 and ./rel/x.md:2')).toEqual(['/abs/path/file.ts:4', './rel/x.md:2']);
    expect(extractSources('foo.md:3-4-5')).toEqual([]);
  });
});
