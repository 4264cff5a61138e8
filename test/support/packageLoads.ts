import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./packageLoads/register.mjs', import.meta.url));

/** The packages autopoll must load only in the commands and parts that use them. */
export const HEAVY_PACKAGES = [
  'zod', 'bullmq', 'ioredis', 'express', '@bull-board/api', '@bull-board/express', 'prom-client', '@anthropic-ai/claude-agent-sdk', 'better-sqlite3',
];

/** The package a module's path or URL lies in: the folder after its last node_modules (with its @scope). */
export function packageOf(pathOrUrl: string): string | undefined {
  const parts = pathOrUrl.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0 || at + 1 >= parts.length) return undefined;
  const name = parts[at + 1]!;
  return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name;
}

/**
 * Records which packages a spawned autopoll loads: pass `env` to the spawn (NODE_OPTIONS imports
 * the recorder), then read `packages()` once the process has exited.
 */
export class PackageLoads {
  private readonly dir = mkdtempSync(join(tmpdir(), 'autopoll-loads-'));
  private readonly file = join(this.dir, 'loads');
  readonly env: Record<string, string> = {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${REGISTER}`.trim(),
    AUTOPOLL_TEST_LOADS_FILE: this.file,
  };

  packages(): Set<string> {
    const lines = readFileSync(this.file, 'utf8').split('\n');
    return new Set(lines.flatMap((line) => packageOf(line) ?? []));
  }

  /** The heavy packages it loaded, of those given. */
  loaded(names: string[] = HEAVY_PACKAGES): string[] {
    const packages = this.packages();
    return names.filter((name) => packages.has(name));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
