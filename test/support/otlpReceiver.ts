import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON request carries it, with its resource's service.name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: OtlpAttribute[] }> }>;
  }>;
}

/** An OTLP AnyValue's value: stringValue, intValue (a string in JSON), doubleValue, boolValue. */
function valueOf(v: Record<string, unknown>): unknown {
  const [kind, value] = Object.entries(v)[0] ?? [];
  return kind === 'intValue' ? Number(value) : value;
}

function attributesOf(list: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));
}

/**
 * A collector of the test's own: an HTTP server on loopback that takes OTLP/HTTP JSON at
 * /v1/traces and keeps every request body and the spans in it.
 */
export class OtlpReceiver {
  readonly bodies: string[] = [];
  /** Each request's path and content type. */
  readonly requests: Array<{ path: string | undefined; contentType: string | undefined }> = [];
  readonly spans: ReceivedSpan[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        receiver.bodies.push(body);
        receiver.requests.push({ path: req.url, contentType: req.headers['content-type'] });
        if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) receiver.take(JSON.parse(body) as OtlpJson);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (the exporter adds /v1/traces). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The spans of each trace, by trace id. */
  traces(): Map<string, ReceivedSpan[]> {
    const traces = new Map<string, ReceivedSpan[]>();
    for (const s of this.spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
    return traces;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private take(body: OtlpJson): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attributesOf(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, attributes: attributesOf(s.attributes) });
        }
      }
    }
  }
}
