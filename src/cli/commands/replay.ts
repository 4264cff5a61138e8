import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, OPERATOR_REDIS, PRODUCER, STATUS, type Specs } from '../options.js';
import type * as OptionValues from '../optionValues.js';

const optionalText = ({ z, emptyToUndefined }: typeof OptionValues) => z.preprocess(emptyToUndefined, z.string().min(1).optional());

const REPLAY = {
  failed: { flags: '--failed', env: 'AUTOPOLL_REPLAY_FAILED', help: 'every question that got an error response', schema: ({ z }) => z.boolean().default(false) },
  queryId: { flags: '--query-id <id>', env: 'AUTOPOLL_REPLAY_QUERY_IDS', list: true, help: 'this query id (repeatable; env: comma list)', schema: ({ z }) => z.array(z.string().min(1)).default([]) },
  conversation: { flags: '--conversation <id>', env: 'AUTOPOLL_REPLAY_CONVERSATION', help: "only this conversation's questions", schema: optionalText },
  since: { flags: '--since <when>', env: 'AUTOPOLL_REPLAY_SINCE', help: 'failed at or after: ISO date/time (UTC unless zoned) or an age (90m, 2h, 7d)', schema: optionalText },
  until: { flags: '--until <when>', env: 'AUTOPOLL_REPLAY_UNTIL', help: 'failed at or before: ISO date/time or an age', schema: optionalText },
  errorKind: { flags: '--error-kind <kind>', env: 'AUTOPOLL_REPLAY_ERROR_KIND', help: 'only this error kind (as in the ledger and the error response: turn_timeout, claude_error, ...)', schema: optionalText },
  dryRun: { flags: '--dry-run', env: 'AUTOPOLL_REPLAY_DRY_RUN', help: 'list what would be replayed; change nothing', schema: ({ z }) => z.boolean().default(false) },
} satisfies Specs;

export const REPLAY_SPECS = {
  ...OPERATOR_REDIS, bridgeDb: STATUS.bridgeDb,
  contextRoot: PRODUCER.contextRoot, contextMaxBytes: PRODUCER.contextMaxBytes, ...REPLAY,
};

export function registerReplay(program: Command): void {
  addOptions(program.command('replay').description('re-run questions that got an error response; their real answers follow on the bridge'), REPLAY_SPECS)
    .action(lazyAction(REPLAY_SPECS, async () => (await import('../run/replay.js')).runReplay));
}
