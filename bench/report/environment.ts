/**
 * What a benchmark ran on: the machine (CPU model, cores, memory, OS, kernel) and the versions
 * (node, redis-server, the Claude Code binary, bullmq, better-sqlite3 and its SQLite, autopoll's
 * git commit). `npm run bench` records it in every results file; the report prints it.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CLAUDE_BIN } from '../claude.js';
import { REPO } from '../../test/support/bridge.js';

export interface BenchEnvironment {
  /** When it was collected (ISO). */
  collectedAt: string;
  machine: { cpuModel: string; cores: number; memoryGiB: number; os: string; kernel: string; arch: string };
  /** 1, 5 and 15 minute load averages when it was collected (at the start of a run): other work on the machine shows here. */
  loadAverage: number[];
  versions: {
    node: string;
    redisServer: string | null;
    /** `claude --version` of the binary the SDK ships (the Claude benchmark records the one it ran). */
    claudeCode: string | null;
    bullmq: string | null;
    betterSqlite3: string | null;
    sqlite: string | null;
    autopoll: { version: string | null; commit: string | null; dirty: boolean | null };
  };
}

/** Output of a command, trimmed; null when it fails. */
function run(command: string, args: string[], env?: NodeJS.ProcessEnv): string | null {
  try {
    return execFileSync(command, args, { cwd: REPO, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'], ...(env ? { env } : {}) }).trim();
  } catch {
    return null;
  }
}

function packageVersion(dir: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // no os-release
  }
  return process.platform;
}

function sqliteVersion(): string | null {
  try {
    const db = new Database(':memory:');
    try {
      return db.prepare('SELECT sqlite_version()').pluck().get() as string;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** `claude --version`, run with an empty HOME and TMPDIR of its own (it writes nothing there, but it is not the user's). */
function claudeVersion(): string | null {
  const home = mkdtempSync(join(tmpdir(), 'autopoll-bench-report-'));
  try {
    return run(CLAUDE_BIN, ['--version'], { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: home });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export function collectEnvironment(): BenchEnvironment {
  const commit = run('git', ['rev-parse', 'HEAD']);
  const status = commit === null ? null : run('git', ['status', '--porcelain', '--untracked-files=no']);
  const redis = run('redis-server', ['--version']);
  return {
    collectedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpuModel(),
      cores: availableParallelism(),
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      os: osName(),
      kernel: `${process.platform === 'linux' ? 'Linux' : process.platform} ${release()}`,
      arch: arch(),
    },
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    versions: {
      node: process.version,
      redisServer: redis ? (/v=(\S+)/.exec(redis)?.[1] ?? redis) : null,
      claudeCode: claudeVersion(),
      bullmq: packageVersion(join(REPO, 'node_modules/bullmq')),
      betterSqlite3: packageVersion(join(REPO, 'node_modules/better-sqlite3')),
      sqlite: sqliteVersion(),
      autopoll: { version: packageVersion(REPO), commit, dirty: status === null ? null : status.length > 0 },
    },
  };
}
