import type { Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RecordedRequest {
  path: string;
  body: Record<string, unknown>;
  /** Every text the request carries (system, messages), joined: what the model would see. */
  text: string;
  /** The text of the last user message. */
  lastUser: string;
  /** The credential it was sent with (x-api-key, or a bearer token), for responders that refuse some. */
  credential: string | undefined;
}

export type Reply =
  | { kind: 'text'; text: string }
  | { kind: 'error'; status: number; type?: string; message?: string }
  | { kind: 'hang' }
  | { kind: 'tool_use'; name: string; input: Record<string, unknown> };

export type Responder = (req: RecordedRequest, index: number) => Reply;

/** The default reply: names what was asked, and cites a source the way answers should. */
export const echoResponder: Responder = (req) => ({ kind: 'text', text: `Fake answer. Asked: ${req.lastUser.slice(-200)} (notes.md:3-4)` });

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.text === 'string') return o.text;
    if ('content' in o) return textOf(o.content);
  }
  return '';
}

type Block = { type?: string; tool_use_id?: string; content?: unknown; is_error?: boolean; text?: string };

function blocksOf(content: unknown): Block[] {
  return Array.isArray(content) ? (content as Block[]) : [];
}

/** The tool results a request sends back, with their text. */
export function toolResultsOf(req: RecordedRequest): Array<{ toolUseId: string; isError: boolean; text: string }> {
  const messages = Array.isArray(req.body.messages) ? (req.body.messages as Array<{ role: string; content: unknown }>) : [];
  const out: Array<{ toolUseId: string; isError: boolean; text: string }> = [];
  for (const m of messages) {
    if (m.role !== 'user') continue;
    for (const b of blocksOf(m.content)) {
      if (b.type !== 'tool_result') continue;
      const text = typeof b.content === 'string' ? b.content : blocksOf(b.content).map((c) => c.text ?? '').join('\n');
      out.push({ toolUseId: String(b.tool_use_id), isError: b.is_error === true, text });
    }
  }
  return out;
}

/**
 * A fake Anthropic Messages API on loopback for the real Claude Code binary
 * (ANTHROPIC_BASE_URL): streaming SSE and plain JSON replies, latency, HTTP errors (429/529)
 * and replies that never come. It records every request (and its credential) for the tests to inspect.
 */
export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  latencyMs = 0;
  responder: Responder = echoResponder;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();

  /** Connections Claude Code holds open to this server: descriptors of the test's own process. */
  get openConnections(): number {
    return this.sockets.size;
  }

  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('fake API not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Messages requests only (not token counts), in arrival order. */
  get messageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // not JSON: recorded with an empty body
    }
    const path = req.url ?? '';
    if (req.method !== 'POST' || !path.startsWith('/v1/messages')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (path.includes('count_tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 100 }));
      return;
    }
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role: string; content: unknown }>) : [];
    const lastUser = textOf([...messages].reverse().find((m) => m.role === 'user')?.content);
    const credential = (req.headers['x-api-key'] as string | undefined) ?? req.headers.authorization?.replace(/^Bearer /, '');
    const recorded: RecordedRequest = { path, body, text: `${textOf(body.system)}\n${textOf(messages)}`, lastUser, credential };
    const index = this.messageRequests.length;
    this.requests.push(recorded);
    const reply = this.responder(recorded, index);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (reply.kind === 'hang') {
      this.hanging.add(res);
      res.once('close', () => this.hanging.delete(res));
      return;
    }
    if (reply.kind === 'error') {
      const type = reply.type ?? (reply.status === 529 ? 'overloaded_error' : reply.status === 429 ? 'rate_limit_error' : reply.status === 401 ? 'authentication_error' : 'api_error');
      res.writeHead(reply.status, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ type: 'error', error: { type, message: reply.message ?? type } }));
      return;
    }
    const model = String(body.model ?? 'claude-haiku');
    const block =
      reply.kind === 'text'
        ? { type: 'text', text: reply.text }
        : { type: 'tool_use', id: `toolu_${index}`, name: reply.name, input: reply.input };
    const stopReason = reply.kind === 'text' ? 'end_turn' : 'tool_use';
    const usage = { input_tokens: Math.ceil(recorded.text.length / 4), output_tokens: 20 };
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const event = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      event('message_start', { message: { id: `msg_${index}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
      if (block.type === 'text') {
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: block.text } });
      } else {
        event('content_block_start', { index: 0, content_block: { ...block, input: {} } });
        event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
      }
      event('content_block_stop', { index: 0 });
      event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
      event('message_stop', {});
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `msg_${index}`, type: 'message', role: 'assistant', model, content: [block], stop_reason: stopReason, stop_sequence: null, usage }));
    }
  }
}
