import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { tempDir } from './bridge.js';
import { CLI } from './cli.js';
import { waitFor } from './wait.js';

export interface ToolCall {
  text: string;
  isError: boolean;
  structured: Record<string, unknown>;
  progress: Array<{ progress: number; total?: number; message?: string }>;
}

/**
 * `autopoll mcp` (the built CLI) spawned by the MCP SDK's own client over stdio, as Claude Code
 * spawns an MCP server: the client library speaks the protocol, the test reads the tools' results.
 */
export class McpSession {
  stderr = '';
  /** The server's exit, once it has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private constructor(readonly client: Client, readonly transport: StdioClientTransport) {}

  static async start(args: string[], env: Record<string, string> = {}): Promise<McpSession> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', ...args],
      // Only what is given: an MCP client passes a small environment, not the test's.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      cwd: tempDir('autopoll-mcp-cwd-'),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'autopoll-test', version: '1.0.0' });
    const session = new McpSession(client, transport);
    (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => (session.stderr += chunk.toString()));
    await client.connect(transport);
    // The transport keeps its child to itself; its exit code is what a test of the stop reads.
    const child = (transport as unknown as { _process: ChildProcess })._process;
    child.once('exit', (code, signal) => (session.exit = { code, signal }));
    return session;
  }

  get pid(): number {
    return this.transport.pid!;
  }

  async call(name: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<ToolCall> {
    const progress: ToolCall['progress'] = [];
    const result = await this.client.callTool({ name, arguments: args }, undefined, {
      timeout: timeoutMs,
      onprogress: (p) => progress.push(p),
    });
    const content = result.content as Array<{ type: string; text?: string }>;
    return {
      text: content.filter((c) => c.type === 'text').map((c) => c.text).join('\n'),
      isError: result.isError === true,
      structured: (result.structuredContent ?? {}) as Record<string, unknown>,
      progress,
    };
  }

  /** The server's pino lines (stderr). */
  logLines(): Array<Record<string, unknown>> {
    return this.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async exited(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return waitFor('the mcp server to exit', () => this.exit, timeoutMs);
  }
}
