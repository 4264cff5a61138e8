/**
 * Finds the places where a tracked file refers to a path outside the repository: the repository
 * must work cloned alone, so nothing in it may point to a sibling folder or to this machine.
 *
 * Relative paths are resolved, not grepped: src/producer importing the shared folder's redis.js
 * one level up names src/shared/redis.js, inside. Only the forms that really name a file are
 * resolved (a module specifier, a path built from a known anchor, a markdown link, a path in prose
 * or a comment, a path in a config file), because code is also full of hostile paths as data (a
 * query's `context_file` climbing to /etc/passwd, which the context reader must refuse) that name
 * nothing.
 */
import { tmpdir } from 'node:os';
import { posix } from 'node:path';

export interface Finding {
  /** The file, relative to the repository root. */
  file: string;
  line: number;
  /** The reference as written. */
  ref: string;
  why: string;
}

/**
 * Folders that hold this machine's users and workspaces. `/home/node` is left out: it is the
 * Docker image's home for its user `node` (Dockerfile, README), inside the container.
 */
const MACHINE_ROOTS = ['work', 'root', 'home', 'Users', 'mnt', 'media'];
const NOT_CONTAINER_HOME = '(?!/node(?![\\w.-]))';
/** A path token: what may follow a folder name in prose, code or config (`:` ends one, as in a volume's `host:container`). */
const PATH_CHARS = "[^\\s'\"`()<>\\[\\]{},;:|]*";

const CODE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const MARKDOWN = /\.md$/;

/** Where a relative path is resolved from: the file's own folder or the repository root. */
type Base = 'file' | 'repo';

/** Code's names for its own folder and for the repository root, as this repository writes them. */
const FILE_ANCHORS = ['here', '__dirname', 'import.meta.dirname', 'dirname(fileURLToPath(import.meta.url))'];
const REPO_ANCHORS = ['REPO', 'process.cwd()'];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Folders that many unrelated things share: the one the repository sits in may be one of them. */
const SHARED_FOLDERS = new Set(['/', '/tmp', '/var/tmp', tmpdir()]);

/** Absolute paths into this machine: its users' and workspace folders, and the folder the repository sits in. */
function absolutePattern(workspace: string | null): RegExp {
  const roots = MACHINE_ROOTS.map((r) => (r === 'home' ? `home${NOT_CONTAINER_HOME}` : r));
  // Into them: the bare folder (`/home`) names no one's files (the tool policy's tests deny it as data).
  const alternatives = roots.map((r) => `/${r}/[\\w.@-]${PATH_CHARS}`);
  // A clone in the system's temp folder has no workspace of its own there: /tmp/... in an example names no one's files.
  if (workspace && !SHARED_FOLDERS.has(workspace)) alternatives.push(`${escapeRegExp(workspace)}(?![\\w.-])${PATH_CHARS}`);
  // Not inside a URL or a longer path (https://host/home/...; ./work/...).
  return new RegExp(`(?<![\\w.~/-])(?:${alternatives.join('|')})`, 'g');
}

/** Whether `ref`, resolved from `from` (a folder relative to the repository root), leaves the repository. */
function leaves(from: string, ref: string): boolean {
  const joined = posix.normalize(posix.join(from || '.', ref));
  return joined === '..' || joined.startsWith('../');
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Blanks the matches of `re` (keeping line breaks) so a later pass does not read them again. */
function blank(text: string, re: RegExp): string {
  return text.replace(re, (m) => m.replace(/[^\n]/g, ' '));
}

/** Markdown link targets: inline links, images, reference definitions, HTML src/href. */
const MD_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)|\b(?:src|href)\s*=\s*"([^"]+)"/gm;
/** A climbing path that goes on to name something, in prose or a comment, where a bare `../` is a word. */
const CLIMBING_TO_NAME = new RegExp(`(?<![\\w./~$-])(\\.\\./(?:\\.\\./)*[\\w@]${PATH_CHARS})`, 'g');
/** A climbing path in a config file, bare `..` included. */
const CLIMBING = new RegExp(`(?<![\\w./~$-])(\\.\\.(?![\\w.-])(?:/${PATH_CHARS})?)`, 'g');
const ANCHOR_SOURCE = `(${[...FILE_ANCHORS, ...REPO_ANCHORS].map(escapeRegExp).join('|')})`;
/** Module specifiers: import/export ... from, import(), bare import, require(). */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\1/g;

/** The relative module specifiers of a source text, in order (packages are not paths). */
export function relativeSpecifiers(text: string): string[] {
  return [...text.matchAll(SPECIFIER)].map((m) => m[2]!);
}
/** resolve(ANCHOR, 'a', 'b') and join(ANCHOR, 'a'): the literal parts that follow the anchor. */
const ANCHORED_CALL = new RegExp(`\\b(?:resolve|join)\\(\\s*${ANCHOR_SOURCE}\\s*((?:,\\s*(?:'[^'\\n]*'|"[^"\\n]*")\\s*)+)`, 'g');
/** `${ANCHOR}/a/b` in a template literal. */
const ANCHORED_TEMPLATE = new RegExp(`\\$\\{${ANCHOR_SOURCE}\\}(/[^\`$\\n]*)`, 'g');
/** new URL('x', import.meta.url). */
const URL_FROM_MODULE = /new\s+URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;
/**
 * Comments, as they start after a line's start or a space: without a lexer, `/*` and `//` inside
 * strings ('src/*', 'https://') would otherwise open one.
 */
const COMMENT = /(?<=^|\s)(?:\/\*[\s\S]*?\*\/|\/\/(?:\s[^\n]*)?$)/gm;

function baseOf(anchor: string): Base {
  return FILE_ANCHORS.includes(anchor) ? 'file' : 'repo';
}

/** Every reference in one file's text that leaves the repository. */
export function findOutsideReferences(file: string, text: string, workspace: string | null): Finding[] {
  const dir = posix.dirname(file) === '.' ? '' : posix.dirname(file);
  const findings: Finding[] = [];
  const add = (index: number, ref: string, why: string) => findings.push({ file, line: lineOf(text, index), ref, why });
  const check = (index: number, written: string, bases: Base[], how: string) => {
    // A sentence's full stop is not part of the path (`../..` keeps its dots).
    const ref = written.replace(/(?<=[^/.])\.+$/, '');
    for (const base of bases) {
      if (leaves(base === 'file' ? dir : '', ref)) {
        add(index, ref, `${how}, resolved from ${base === 'file' ? `its folder (${dir || 'the root'})` : 'the repository root'}, leaves the repository`);
        return;
      }
    }
  };

  for (const m of text.matchAll(absolutePattern(workspace))) add(m.index, m[0], 'an absolute path into this machine');

  if (CODE.test(file)) {
    for (const m of text.matchAll(SPECIFIER)) check(m.index, m[2]!, ['file'], 'a module specifier');
    for (const m of text.matchAll(ANCHORED_CALL)) {
      const parts = [...m[2]!.matchAll(/'([^']*)'|"([^"]*)"/g)].map((p) => p[1] ?? p[2]!);
      check(m.index, parts.join('/'), [baseOf(m[1]!)], `a path built from ${m[1]}`);
    }
    for (const m of text.matchAll(ANCHORED_TEMPLATE)) check(m.index, `.${m[2]}`, [baseOf(m[1]!)], `a path built from ${m[1]}`);
    for (const m of text.matchAll(URL_FROM_MODULE)) check(m.index, m[2]!, ['file'], 'a URL from import.meta.url');
    for (const c of text.matchAll(COMMENT)) {
      for (const m of c[0].matchAll(CLIMBING_TO_NAME)) check(c.index + m.index, m[1]!, ['file', 'repo'], 'a path in a comment');
    }
  } else if (MARKDOWN.test(file)) {
    for (const m of text.matchAll(MD_LINK)) {
      const target = (m[1] ?? m[2] ?? m[3])!;
      // URLs (https:, mailto:) and anchors in the same page name no file.
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      check(m.index, target.replace(/[?#].*$/, ''), ['file'], 'a link');
    }
    // Prose reads as written from either place, so a climbing path must stay inside from both.
    for (const m of blank(text, MD_LINK).matchAll(CLIMBING_TO_NAME)) check(m.index, m[1]!, ['file', 'repo'], 'a path in prose');
  } else {
    // Scripts and configs resolve from their folder or from where they are run (.ci/run cds to the root).
    for (const m of text.matchAll(CLIMBING)) check(m.index, m[1]!, ['file', 'repo'], 'a relative path');
  }
  return findings.sort((a, b) => a.line - b.line);
}
