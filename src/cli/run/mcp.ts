import type { Command } from 'commander';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { ContextReader } from '../../producer/ContextReader.js';
import { McpAsker } from '../../ops/mcp/McpAsker.js';
import type { ConversationSource } from '../../ops/mcp/AskerConversation.js';
import { registerTools } from '../../ops/mcp/mcpTools.js';
import { readFleet } from '../../ops/mcp/readFleet.js';
import { knownSecrets } from '../../shared/knownSecrets.js';
import { createLogger } from '../../shared/logger.js';
import { ownedFiles } from '../../shared/ownedFiles.js';
import type { MCP_SPECS } from '../commands/mcp.js';
import { connectOnce } from '../connect.js';
import { runService } from '../lifecycle.js';
import { ConfigError, DEFAULT_ROLE, type Parsed } from '../options.js';
import { packageVersion } from '../version.js';

/** The token is a secret: the message never repeats it. */
const TokenSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected the 64 lowercase hex digits of the side-a token (session_a_token)');

/** A shard takes up a new conversation at the commit that made it (an earlier autopoll at its 2 s refresh); room for a loaded host. */
const SERVING_GRACE_MS = 10_000;

export async function runMcp(o: Parsed<typeof MCP_SPECS>, cmd: Command): Promise<void> {
  const logger = createLogger({ level: o.logLevel, format: o.logFormat, stream: 'stderr', name: 'autopoll-mcp' });
  const source = conversationSource(o, cmd);
  const asker = openAsker({
    bridgeDb: o.bridgeDb,
    source,
    contexts: o.contextRoot === undefined ? undefined : new ContextReader(o.contextRoot, 1, ownedFiles(o.bridgeDb)),
    renewBeforeSec: o.renewBefore,
    progressIntervalMs: o.progressInterval * 1000,
    pollIntervalMs: o.pollIntervalMs,
    servingGraceMs: SERVING_GRACE_MS,
    fleet: async (role) => {
      const redis = await connectOnce(o, cmd, 3000);
      try {
        return await readFleet(redis, o.prefix, role);
      } finally {
        redis.disconnect();
      }
    },
  }, logger);
  await runService(logger, async () => {
    const server = new McpServer({ name: 'autopoll', version: packageVersion() });
    registerTools(server, asker, { defaultWaitSec: o.wait }, logger);
    const transport = new StdioServerTransport();
    // The client closing its end is the usual way an MCP server's work ends.
    const ended = new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.stdin.once('close', resolve);
    });
    await server.connect(transport);
    logger.info({ bridgeDb: o.bridgeDb, ...('role' in source ? { role: source.role } : { conversationId: source.conversationId }) }, 'mcp server ready on stdio');
    return {
      ended,
      stop: async () => {
        // Calls still waiting end now with where their question stands; the questions stay on the bridge.
        await asker.stopWaiting();
        await server.close();
        asker.close();
      },
    };
  }, o.shutdownTimeout);
}

/** A bridge file that cannot be opened is the caller's to fix, like a bad flag (exit 2). */
function openAsker(...args: Parameters<typeof McpAsker.open>): McpAsker {
  try {
    return McpAsker.open(...args);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** A role's conversation (created and renewed), or a given one with its side-a token from the environment. */
function conversationSource(o: Parsed<typeof MCP_SPECS>, cmd: Command): ConversationSource {
  const tokenText = process.env.AUTOPOLL_MCP_TOKEN;
  // Read once and dropped: nothing the server starts inherits it (its /proc environ, readable by its own user only, still shows the start's).
  delete process.env.AUTOPOLL_MCP_TOKEN;
  if (o.conversation === undefined) {
    if (tokenText) throw new ConfigError('AUTOPOLL_MCP_TOKEN is set but --conversation (env AUTOPOLL_MCP_CONVERSATION) is not: name the conversation the token is for, or unset it');
    return { role: o.role ?? DEFAULT_ROLE };
  }
  if (cmd.getOptionValueSource('role') === 'cli') throw new ConfigError('--role and --conversation exclude each other: the conversation has its role already');
  const token = TokenSchema.safeParse(tokenText ?? '');
  if (!token.success) throw new ConfigError(`--conversation needs the variable AUTOPOLL_MCP_TOKEN: ${token.error.issues[0]!.message}`);
  knownSecrets.add('conversation-token', token.data);
  return { conversationId: o.conversation, token: token.data };
}
