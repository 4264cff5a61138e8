/** How spans leave the process: OTLP over HTTP (JSON or protobuf), or printed (OTEL_TRACES_EXPORTER=console). */
export type TraceExport = { kind: 'otlp'; protocol: 'http/json' | 'http/protobuf' } | { kind: 'console' };

export interface TracingChoice {
  /** Empty: tracing is off, and nothing of the SDK is loaded. */
  exports: TraceExport[];
  /** OTEL_* values this build ignores, said once at start. */
  warnings: string[];
}

const set = (v: string | undefined): string | undefined => (v?.trim() ? v.trim() : undefined);

/**
 * Whether and how to trace, from the standard OTEL_* variables alone. Off unless an OTLP endpoint
 * or OTEL_TRACES_EXPORTER asks for spans: the SDK's own default (export to localhost:4318 always)
 * would make every autopoll send spans nobody asked for. OTEL_SDK_DISABLED=true wins over all.
 */
export function tracingChoice(env: NodeJS.ProcessEnv): TracingChoice {
  const off: TracingChoice = { exports: [], warnings: [] };
  if (set(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return off;
  const endpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const named = set(env.OTEL_TRACES_EXPORTER)?.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
  const exporters = named ?? (endpoint !== undefined ? ['otlp'] : []);
  if (exporters.includes('none')) return off;
  const warnings: string[] = [];
  const exports: TraceExport[] = [];
  for (const name of new Set(exporters)) {
    if (name === 'console') exports.push({ kind: 'console' });
    else if (name === 'otlp') {
      const protocol = otlpProtocol(env, warnings);
      if (protocol) exports.push({ kind: 'otlp', protocol });
    } else warnings.push(`OTEL_TRACES_EXPORTER=${name} is not supported (otlp, console, none); ignored`);
  }
  return { exports, warnings };
}

/** The spec's default is http/protobuf; gRPC is not built in (a collector takes OTLP/HTTP on 4318). */
function otlpProtocol(env: NodeJS.ProcessEnv, warnings: string[]): 'http/json' | 'http/protobuf' | undefined {
  const protocol = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? 'http/protobuf';
  if (protocol === 'http/json' || protocol === 'http/protobuf') return protocol;
  warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported (http/protobuf, http/json); no spans are exported over OTLP`);
  return undefined;
}
