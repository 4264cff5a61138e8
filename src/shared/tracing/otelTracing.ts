import { context, propagation, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { BullMQOtel } from 'bullmq-otel';
import { redactText } from '../redact.js';
import type { SpanAttributes, TraceSpan, Tracing } from './telemetry.js';
import type { TraceExport } from './tracingChoice.js';

// Only imported when tracing is on (telemetry.ts): the SDK is most of a start's imports otherwise.

const TRACER = 'autopoll';

function exporterFor(e: TraceExport): SpanExporter {
  // The exporters read the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*.
  if (e.kind === 'console') return new ConsoleSpanExporter();
  return e.protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter();
}

function clean(attributes: SpanAttributes): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(attributes).filter((kv): kv is [string, string | number | boolean] => kv[1] !== undefined));
}

/** Registers the OpenTelemetry globals (context, W3C propagation, the provider) and returns autopoll's view of them. */
export function openTracing(exports: TraceExport[], serviceName: string): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the role's name.
  const resource = resourceFromAttributes({ 'service.name': serviceName }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ resource, spanProcessors: exports.map((e) => new BatchSpanProcessor({ exporter: exporterFor(e) })) });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracer = trace.getTracer(TRACER);
  const bullmq = new BullMQOtel({ tracerName: TRACER });

  const metadataOf = (ctx: Context): string | undefined => (trace.getSpan(ctx) ? bullmq.contextManager.getMetadata(ctx) : undefined);
  const wrap = (span: Span): TraceSpan & { span: Span } => ({
    span,
    setAttributes: (a) => span.setAttributes(clean(a)),
    fail: (err) => {
      // Redacted as for the logs and the job's failed reason: an error may quote the model, the API
      // or a process's output, and spans leave for a collector that may be another company's.
      const message = redactText(err instanceof Error ? err.message : String(err));
      if (err instanceof Error) span.recordException({ name: err.name, message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    },
    end: () => span.end(),
    metadata: () => metadataOf(trace.setSpan(context.active(), span)),
  });

  return {
    bullmq,
    startRoot: (name, attributes, startTime) => wrap(tracer.startSpan(name, { root: true, attributes: clean(attributes), ...(startTime !== undefined ? { startTime } : {}) })),
    startChild: (parent, name, attributes) => {
      const parentSpan = (parent as Partial<ReturnType<typeof wrap>>).span;
      const ctx = parentSpan ? trace.setSpan(context.active(), parentSpan) : context.active();
      return wrap(tracer.startSpan(name, { attributes: clean(attributes) }, ctx));
    },
    inSpan: (name, attributes, fn) =>
      tracer.startActiveSpan(name, { attributes: clean(attributes) }, async (span) => {
        const traced = wrap(span);
        try {
          return await fn(traced);
        } catch (err) {
          traced.fail(err);
          throw err;
        } finally {
          span.end();
        }
      }),
    activeMetadata: () => metadataOf(context.active()),
    shutdown: () => provider.shutdown(),
  };
}
