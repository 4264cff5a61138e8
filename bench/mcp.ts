/**
 * The MCP benchmark: `autopoll mcp` measured from outside, as a Claude session uses it. On a
 * private redis-server and a real bridge file, `autopoll up --answerer stub --stub-latency-ms 0
 * --role R` is the shard; `autopoll mcp --bridge-db F --role R` is spawned and driven by the MCP
 * SDK's own client over stdio (test/support/mcpClient.ts). Figures: an ask's round trip through
 * MCP, one at a time; the same questions with `autopoll ask` (the CLI a person runs, one process and
 * one new conversation a question) as the baseline of the same run; and many asks at
 * once through the one server, each answered exactly once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { McpSession } from '../test/support/mcpClient.js';
import { round } from '../test/support/numbers.js';
import { waitFor } from '../test/support/wait.js';
import { cleanup } from './cleanup.js';
import { askConcurrently, askWithCli, askWithMcp, checkOnce, wrongAnswers, type ConcurrentRun, type OnceCheck } from './mcp/phases.js';
import { timing, type Timing } from './numbers.js';
import { BenchStack } from './stack.js';

/** The role the shard serves and the server asks for: any name but the default's. */
export const MCP_BENCH_ROLE = 'bench_mcp_shard';

export interface McpConfig {
  /** Questions asked one at a time, through MCP and again with `autopoll ask`. */
  n: number;
  /** Asks through MCP first, not measured (the conversation is created and taken up by the shard). */
  warmup: number;
  /** Asks in flight at once through the one server. */
  concurrent: number;
  /** --sessions of `up`: how many questions the stub answers at once. */
  sessions: number;
}

export interface McpResult {
  benchmark: 'mcp';
  config: McpConfig & { role: string };
  /** `up` spawn -> its producer and consumer started, s. */
  upStartSec: number;
  /** `callTool('ask')` -> its result, one at a time. */
  mcp: Timing | null;
  /** `autopoll ask "..." --role R --bridge-db F`, spawn -> exit, one at a time. */
  cli: Timing | null;
  /** Results that were not `answered` with `Stub answer to <queryId>.` (both one-at-a-time phases). */
  wrongAnswers: { mcp: number; cli: number };
  concurrent: ConcurrentRun;
  /** Every question of the run (warm-up included): one query row and one response row in the bridge. */
  bridge: OnceCheck;
  /**
   * Warn/error lines of `up` and of the MCP server (it logs at warn), the first few messages: a
   * bridge watch that failed ("relying on the poll") shows here, and in times of about the poll interval.
   */
  logs: { up: LogNotes; mcp: LogNotes };
}

export interface LogNotes {
  count: number;
  first: string[];
}

function serverNotes(session: McpSession): LogNotes {
  const lines = session.logLines().filter((l) => typeof l.level === 'number' && l.level >= 40);
  return { count: lines.length, first: lines.slice(0, 5).map((l) => String(l.msg)) };
}

const question = (i: number) => `MCP benchmark question ${i}: where is the retry policy defined?`;

export async function runMcpBench(config: McpConfig, log: (line: string) => void): Promise<McpResult> {
  const stack = await BenchStack.start('mcp');
  try {
    const contextRoot = join(stack.dir, 'context');
    mkdirSync(contextRoot);
    const spawned = performance.now();
    const up = stack.service({
      name: 'up (mcp)',
      args: [
        'up', ...stack.commonArgs('info'), '--answerer', 'stub', '--stub-latency-ms', '0', '--sessions', String(config.sessions),
        '--role', MCP_BENCH_ROLE, '--bridge-db', stack.bridge.path, '--context-root', contextRoot, '--port', '0',
      ],
      // A board with a token: without one `up` warns on every start, a line the notes would carry.
      env: { AUTOPOLL_BOARD_TOKEN: randomBytes(16).toString('hex') },
    });
    const started = (msg: string) => (up.logged.get(msg) ?? 0) > 0;
    await waitFor('`up` to start its producer and consumer', () => started('producer started') && started('consumer started'), { timeoutMs: 120_000, everyMs: 20, guard: [up] });
    const upStartSec = round((performance.now() - spawned) / 1000, 2);
    log(`[mcp] autopoll up (stub, 0 ms, --sessions ${config.sessions}) started in ${upStartSec} s`);

    const session = await McpSession.start(['--bridge-db', stack.bridge.path, '--role', MCP_BENCH_ROLE, '--redis', stack.redis.url, '--prefix', stack.prefix, '--log-level', 'warn']);
    const closeSession = cleanup.add('close the MCP client (its server exits)', () => session.close());
    try {
      const warm = await askWithMcp(session, Array.from({ length: config.warmup }, (_, i) => `MCP benchmark warm-up ${i}?`));
      log(`[mcp] ${config.warmup} warm-up asks through MCP: ${warm.map((a) => `${Math.round(a.ms)} ms`).join(', ')}`);
      const questions = Array.from({ length: config.n }, (_, i) => question(i));
      const viaMcp = await askWithMcp(session, questions);
      const mcp = timing(viaMcp.map((a) => a.ms));
      log(`[mcp] ${config.n} asks through MCP, one at a time: p50 ${mcp?.p50} ms, p95 ${mcp?.p95} ms`);
      const viaCli = await askWithCli(stack.bridge.path, MCP_BENCH_ROLE, questions);
      const cli = timing(viaCli.map((a) => a.ms));
      log(`[mcp] the same ${config.n} with \`autopoll ask\`, one process each: p50 ${cli?.p50} ms, p95 ${cli?.p95} ms`);
      const { run: concurrent, answers: atOnce } = await askConcurrently(session, stack.bridge, config.concurrent);
      log(`[mcp] ${config.concurrent} asks at once through one server: ${concurrent.seconds} s, ${concurrent.perSecond} q/s, ${concurrent.answeredOnce} answered exactly once`);
      const bridge = checkOnce(stack.bridge, [...warm, ...viaMcp, ...viaCli, ...atOnce].map((a) => a.queryId));
      return {
        benchmark: 'mcp',
        config: { ...config, role: MCP_BENCH_ROLE },
        upStartSec,
        mcp,
        cli,
        wrongAnswers: { mcp: wrongAnswers(viaMcp), cli: wrongAnswers(viaCli) },
        concurrent,
        bridge,
        logs: { up: { count: up.warnings + up.errors, first: [...up.notable] }, mcp: serverNotes(session) },
      };
    } finally {
      await closeSession();
    }
  } finally {
    await stack.close();
  }
}
