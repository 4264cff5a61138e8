/**
 * `npm run bench`: builds, then runs the benchmarks against the built CLI and prints figures
 * with their targets (figures, not pass/fail). Results also go to bench/results/<name>.json.
 *
 * Knobs (environment): BENCH_N (throughput questions, 20000), BENCH_REPEAT (throughput runs
 * per scenario, median reported; 3), BENCH_LATENCY_N (300),
 * BENCH_LATENCY_GAP_MS (10), BENCH_WARMUP_N (500), BENCH_OLD_MESSAGES (1000000; 0 skips that
 * scenario), BENCH_SESSIONS (64), BENCH_INSERT_BATCH (100), BENCH_CPU_PROF=1 (children write
 * .cpuprofile files to bench/results/profiles), BENCH_TIMEOUT_SEC (whole run, 420).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatPipeline, runPipelineBench } from './pipeline.js';
import { cleanup, envInt, removeStaleTempDirs, REPO } from './support.js';

const RESULTS = join(REPO, 'bench', 'results');
const log = (line: string) => process.stdout.write(`${line}\n`);

let aborting = false;

/** Cleans up and exits; runs once (a Ctrl-C reaches the bench both from the terminal and relayed by tsx). */
async function abort(why: string, code: number): Promise<void> {
  if (aborting) return;
  aborting = true;
  process.stderr.write(`bench: ${why}; cleaning up\n`);
  await cleanup.runAll();
  process.exit(code);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => void abort(`the whole run took longer than ${envInt('BENCH_TIMEOUT_SEC', 420)} s`, 1), envInt('BENCH_TIMEOUT_SEC', 420) * 1000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void abort(`got ${signal}`, 130));

  const stale = removeStaleTempDirs();
  if (stale.length) log(`removed ${stale.length} temp folder(s) left by an earlier bench that was killed: ${stale.join(', ')}`);
  mkdirSync(RESULTS, { recursive: true });
  const cpuProfDir = process.env.BENCH_CPU_PROF ? join(RESULTS, 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const machine = { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '?', memoryGB: Math.round(totalmem() / 1e9), node: process.version, platform: process.platform };
  log(`autopoll benchmarks on ${machine.cpus} cores (${machine.cpuModel}), node ${machine.node}`);

  const pipeline = await runPipelineBench(
    {
      throughputN: envInt('BENCH_N', 20_000),
      throughputRepeat: Math.max(1, envInt('BENCH_REPEAT', 3)),
      insertBatch: Math.max(1, envInt('BENCH_INSERT_BATCH', 100)),
      latencyN: envInt('BENCH_LATENCY_N', 300),
      latencyGapMs: envInt('BENCH_LATENCY_GAP_MS', 10),
      warmupN: envInt('BENCH_WARMUP_N', 500),
      oldMessages: envInt('BENCH_OLD_MESSAGES', 1_000_000),
      sessions: Math.max(1, envInt('BENCH_SESSIONS', 64)),
      throughputTimeoutMs: 100_000,
      cpuProfDir,
    },
    log,
  );
  const file = join(RESULTS, 'pipeline.json');
  writeFileSync(file, `${JSON.stringify({ ...pipeline, machine, finishedAt: new Date().toISOString() }, null, 2)}\n`);

  log('');
  log('== pipeline: bridge -> producer -> Redis -> consumer (stub) -> producer -> bridge ==');
  log(formatPipeline(pipeline));
  log('');
  log(`results: ${file}${cpuProfDir ? `; CPU profiles: ${cpuProfDir}` : ''}`);
}

main().then(
  async () => {
    await cleanup.runAll();
    process.exit(0);
  },
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanup.runAll();
    process.exit(1);
  },
);
