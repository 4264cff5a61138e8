import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, COMMON, MCP } from '../options.js';

export const MCP_SPECS = { ...COMMON, ...MCP };

export function registerMcp(program: Command): void {
  addOptions(
    program
      .command('mcp')
      .description(
        'an MCP server on stdio for a Claude session: tools ask (waits for the answer), get_answer and shard_status; ' +
          'it asks as side a of a conversation it creates for --role and renews, or of --conversation with its side-a token in AUTOPOLL_MCP_TOKEN. ' +
          'Logs go to stderr. Claude Code: claude mcp add autopoll -- npx autopoll mcp --bridge-db PATH --role ROLE',
      ),
    MCP_SPECS,
  ).action(lazyAction(MCP_SPECS, async () => (await import('../run/mcp.js')).runMcp));
}
