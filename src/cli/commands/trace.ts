import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, OPERATOR_REDIS, STATUS, type Specs } from '../options.js';

const TRACE = {
  messageId: {
    flags: '--message-id <n>', env: 'AUTOPOLL_TRACE_MESSAGE_ID', help: "only the question with this bridge message id (or, without a query id, trace it by its id)",
    schema: ({ whole, emptyToUndefined, z }) => z.preprocess(emptyToUndefined, whole(1, Number.MAX_SAFE_INTEGER).optional()),
  },
  conversation: {
    flags: '--conversation <id>', env: 'AUTOPOLL_TRACE_CONVERSATION', help: "only questions of this conversation",
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  },
} satisfies Specs;

export const TRACE_SPECS = { ...OPERATOR_REDIS, ...STATUS, ...TRACE };

export function registerTrace(program: Command): void {
  addOptions(
    program
      .command('trace')
      .argument('[query-id]', 'the query_id the asker knows (every question that asked it, unless narrowed)')
      .description("one question's life from the bridge, the ledger and Redis: a timeline with each stage's time (exit 0 found, 3 not found; --json: one object per question, one a line)"),
    TRACE_SPECS,
  ).action(lazyAction(TRACE_SPECS, async () => (await import('../run/trace.js')).runTrace));
}
