import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { BridgeLostError } from '../../bridge/BridgeChanges.js';
import { BUSY_TIMEOUT_MS } from '../../bridge/busyTimeout.js';
import { isBusyError } from '../../bridge/busyRetry.js';
import type { Logger } from '../../shared/logger.js';
import { answerResult, shardStatusResult, toolResult, type ToolResult } from './formatTool.js';
import type { McpAsker, ProgressReport } from './McpAsker.js';
import { ToolRefusal } from './ToolRefusal.js';

/** Longest a call may wait: a day, as `autopoll ask --wait` allows. */
const MAX_WAIT_SEC = 86_400;

const waitSeconds = (defaultSec: number) =>
  z.number({ error: 'wait_seconds must be a number of seconds' }).int('wait_seconds must be whole seconds').min(0, 'wait_seconds must be 0 or more')
    .max(MAX_WAIT_SEC, `wait_seconds must be at most ${MAX_WAIT_SEC} (a day)`).optional()
    .describe(`how long to wait for the answer, in seconds (default ${defaultSec}); after it the result says "not answered yet" with the query_id for get_answer`);

/** What each tool call may use of the request the SDK hands it. */
interface CallExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number } | undefined;
  sendNotification: (n: { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; total?: number; message?: string } }) => Promise<void>;
}

/** The tools a Claude session calls: ask, get_answer, shard_status. */
export function registerTools(server: McpServer, asker: McpAsker, o: { defaultWaitSec: number }, logger: Logger): void {
  server.registerTool('ask', {
    title: 'Ask the shard',
    description: 'Ask the shard a question on the bridge and wait for its answer (with its sources, model and query_id). Reports progress while it waits; if the answer takes longer than wait_seconds, returns "not answered yet" with the query_id to pass to get_answer.',
    inputSchema: {
      question: z.string({ error: 'question must be text' }).describe('the question, as the shard should read it (at most 50,000 characters)'),
      context_file: z.string({ error: 'context_file must be a path' }).min(1, 'context_file must not be empty: leave it out instead').max(4096, 'context_file must be at most 4096 characters').optional()
        .describe("a file the shard reads as the question's context: a path inside the shard's context root"),
      wait_seconds: waitSeconds(o.defaultWaitSec),
    },
    annotations: { readOnlyHint: false, openWorldHint: false },
  }, (args, extra) => guarded('ask', logger, () =>
    asker.ask({ question: args.question, contextFile: args.context_file, waitSec: args.wait_seconds ?? o.defaultWaitSec }, progressOf(extra as CallExtra), (extra as CallExtra).signal).then(answerResult)));

  server.registerTool('get_answer', {
    title: 'Get an answer asked earlier',
    description: 'The answer to a question an earlier ask of this server returned unanswered (by its query_id), waiting up to wait_seconds for it; or where it stands: waiting, being answered, or failed with the reason.',
    inputSchema: {
      query_id: z.string({ error: 'query_id must be text' }).regex(/^q_[0-9a-f]{12}$/, 'query_id must be the query_id an ask returned, like q_0123456789ab'),
      wait_seconds: waitSeconds(o.defaultWaitSec),
    },
    annotations: { readOnlyHint: false, openWorldHint: false },
  }, (args, extra) => guarded('get_answer', logger, () =>
    asker.getAnswer({ queryId: args.query_id, waitSec: args.wait_seconds ?? o.defaultWaitSec }, progressOf(extra as CallExtra), (extra as CallExtra).signal).then(answerResult)));

  server.registerTool('shard_status', {
    title: 'Is a shard serving?',
    description: "Whether a shard serves this server's role: side b's heartbeat age on the bridge, and (when Redis is reachable) the question queue, producers and consumers.",
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, () => guarded('shard_status', logger, () => asker.shardStatus().then(shardStatusResult)));
}

/** MCP progress notifications for a call whose client asked for them (a progressToken); nothing otherwise. */
function progressOf(extra: CallExtra): ProgressReport {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => undefined;
  return (p) => {
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p.elapsedSec, total: p.totalSec, message: p.message } })
      .catch(() => undefined); // a client gone mid-wait: the call's own answer fails the same way
  };
}

/** A refusal is the caller's to fix: its message, as a tool error. Anything else is logged, and reported without its stack. */
async function guarded(tool: string, logger: Logger, run: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await run();
  } catch (err) {
    if (isBusyError(err)) {
      logger.warn({ err, tool }, 'the bridge file stayed locked');
      return toolResult(`the bridge file stayed locked by another process for longer than the bridge's ${BUSY_TIMEOUT_MS.command / 1000} s busy timeout (SQLITE_BUSY): try the call again`, {}, true);
    }
    if (err instanceof BridgeLostError) return toolResult(`the bridge file can no longer be used (${err.message}); restart autopoll mcp`, {}, true);
    if (!(err instanceof ToolRefusal)) logger.error({ err, tool }, 'tool call failed');
    else logger.info({ tool, reason: err.message }, 'tool call refused');
    return toolResult((err as Error).message, {}, true);
  }
}
