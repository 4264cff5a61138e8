/**
 * The deployment files (Dockerfile, .dockerignore, docker-compose.yml, .env.example) read as
 * docker compose and docker build would, without a Docker engine, and the built CLI's --help they
 * are held to: for test/integration/deployment.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { expect } from 'vitest';
import { REPO } from './bridge.js';
import { runAutopoll } from './cli.js';

export const read = (file: string) => readFileSync(join(REPO, file), 'utf8');
export const TOKEN = 'compose-board-token-0123456789abcdef';
export const AUTOPOLL_SERVICES = ['producer', 'consumer', 'board'] as const;
export type AutopollService = (typeof AUTOPOLL_SERVICES)[number];

// ---------------------------------------------------------------- compose: parse and interpolate

export type Env = Record<string, string | undefined>;

interface Healthcheck {
  test: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

export interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: unknown;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: Array<string | number | { host_ip?: string; published?: string | number; target?: number }>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: Healthcheck;
  container_name?: string;
  hostname?: string;
  user?: string;
  init?: boolean;
  stop_grace_period?: string;
  restart?: string;
  profiles?: string[];
  secrets?: Array<string | { source: string; target?: string }>;
}

export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { environment?: string; file?: string }>;
}

/** The services `docker compose` starts with these `--profile`s: those of no profile, and those of one named. */
export function servicesIn(compose: Compose, profiles: string[] = []): Record<string, Service> {
  return Object.fromEntries(Object.entries(compose.services).filter(([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p))));
}

/** Where a service's secrets appear in its container: /run/secrets/<target, else the name>, by secret name. */
export function secretFiles(service: Service): Map<string, string> {
  return new Map((service.secrets ?? []).map((s) => (typeof s === 'string' ? [s, `/run/secrets/${s}`] : [s.source, s.target?.startsWith('/') ? s.target : `/run/secrets/${s.target ?? s.source}`])));
}

/** Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, env: Env, seen?: Set<string>): string {
  return text.replace(/\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    seen?.add(name);
    const value = env[name];
    if (!op) return value ?? '';
    const missing = op.startsWith(':') ? !value : value === undefined;
    if (op.endsWith('-')) return missing ? arg! : value!;
    if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
    return value!;
  });
}

export function interpolateAll<T>(value: T, env: Env, seen?: Set<string>): T {
  if (typeof value === 'string') return interpolate(value, env, seen) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env, seen)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env, seen)])) as T;
  }
  return value;
}

/** The compose file as `docker compose` would see it with `env` as the shell plus .env. */
export function loadCompose(env: Env, seen?: Set<string>): Compose {
  return interpolateAll(parse(read('docker-compose.yml'), { merge: true }) as Compose, env, seen);
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** The variables .env.example names, set or commented out (`# NAME=...`). */
export function documentedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/^\s*#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
}

/** The shell plus .env of a user who copied .env.example and set the token. */
export const COMPOSE_ENV: Env = { ...parseEnvFile(read('.env.example')), AUTOPOLL_BOARD_TOKEN: TOKEN };

export const argv = (command: string[] | string | undefined): string[] => (Array.isArray(command) ? command.map(String) : (command ?? '').split(/\s+/).filter(Boolean));

/** A service's environment in the container: a key without a value is taken from `env` or left unset. */
export function containerEnv(service: Service, env: Env): Env {
  const entries = service.environment ?? {};
  const pairs: Array<[string, string | null]> = Array.isArray(entries)
    ? entries.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, null]))
    : Object.entries(entries).map(([k, v]) => [k, v === null ? null : String(v)]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, v ?? env[k]]).filter(([, v]) => v !== undefined));
}

/** The names a service's environment sets or passes through. */
export function envKeys(service: Service): string[] {
  const entries = service.environment ?? {};
  return Array.isArray(entries) ? entries.map((e) => e.split('=')[0]!) : Object.keys(entries);
}

export function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

export function healthcheckArgs(service: Service): string[] {
  const test = argv(service.healthcheck?.test);
  expect(test[0], 'healthcheck test is an exec form (CMD) or a shell form (CMD-SHELL)').toMatch(/^CMD(-SHELL)?$/);
  return test.slice(1);
}

/** `45s`, `1m30s`, `2m` in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration ${text}`).toBe(text);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export function volumeMounts(service: Service): VolumeMount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = v.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    return { source: v.source ?? '', target: v.target ?? '', readOnly: false };
  });
}

/** A host path (bind mount) rather than a named volume, as compose tells them apart. */
export const isHostPath = (source: string) => source.startsWith('/') || source.startsWith('.') || source.startsWith('~');

// ---------------------------------------------------------------- the CLI's own --help

interface CliHelp {
  flags: Set<string>;
  envs: Set<string>;
  defaults: Map<string, string>;
}

const helpCache = new Map<string, CliHelp>();

export async function cliHelp(command: string): Promise<CliHelp> {
  const cached = helpCache.get(command);
  if (cached) return cached;
  const { code, stdout } = await runAutopoll([command, '--help'], {}, 30_000);
  expect(code, `autopoll ${command} --help`).toBe(0);
  const flat = stdout.replace(/\s+/g, ' ');
  const help: CliHelp = {
    flags: new Set([...stdout.matchAll(/^\s+(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!)),
    envs: new Set([...flat.matchAll(/env: ([A-Z][A-Z0-9_]*)\)/g)].map((m) => m[1]!)),
    // One option's lines at a time (an option line starts two spaces in): an option without a
    // default must not take the next one's.
    defaults: new Map(
      stdout.split(/\n(?=  (?:-\w, )?--)/).flatMap((option) => {
        const m = /^\s*(?:-\w, )?(--[a-z0-9-]+)[\s\S]*?\(default:\s+"([^"]*)"/.exec(option);
        return m ? [[m[1]!, m[2]!] as const] : [];
      }),
    ),
  };
  helpCache.set(command, help);
  return help;
}

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions by stage: continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full) logical.push(full);
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\w+)\s+(.*)$/s.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.trim());
      stages.push({ from: m![1]!, ...(m![2] ? { name: m![2] } : {}), instructions: [] });
    } else {
      expect(stages.length, `${upper} before any FROM`).toBeGreaterThan(0);
      stages.at(-1)!.instructions.push({ keyword: upper, args: args.trim() });
    }
  }
  return stages;
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

function parseCopy(args: string): Copy {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** Where each COPY of a stage lands, as absolute paths in the image (WORKDIR applied). */
export function copies(stage: Stage): Array<Copy & { destAbs: string }> {
  let workdir = '/';
  const out: Array<Copy & { destAbs: string }> = [];
  for (const ins of stage.instructions) {
    if (ins.keyword === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const c = parseCopy(ins.args);
      out.push({ ...c, destAbs: posix.resolve(workdir, c.dest) });
    }
  }
  return out;
}

/** .dockerignore's verdict on a context path (last matching pattern wins; `!` re-includes). */
export function dockerIgnored(path: string, patterns: string[]): boolean {
  const toRegex = (p: string) =>
    new RegExp(`^${p.replace(/^\/+/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '(?:.*/)?')}$`);
  const segments = path.split('/');
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRegex(negate ? raw.slice(1) : raw);
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

export const dockerignorePatterns = () =>
  read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

// ---------------------------------------------------------------- secrets

const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['Anthropic API key', /sk-ant-[A-Za-z0-9_-]{8,}/],
  ['sk- key', /\bsk-[A-Za-z0-9]{20,}/],
  ['long hex token', /\b[0-9a-fA-F]{32,}\b/],
  ['key or token assigned a literal', /\b[A-Z0-9_]*(?:API_KEY|TOKEN|SECRET|PASSWORD)\b["']?[ \t]*[=:][ \t]*["']?(?![$"'\s])[^\s"'#]{8,}/],
];

/** What looks like a secret in `text`: the kind and the line. */
export function secretsIn(text: string): string[] {
  return text.split('\n').flatMap((line) => SECRET_PATTERNS.filter(([, re]) => re.test(line)).map(([what]) => `${what}: ${line.trim()}`));
}
