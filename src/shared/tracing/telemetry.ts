import type { Telemetry } from 'bullmq';
import type { Logger } from '../logger.js';
import { tracingChoice } from './tracingChoice.js';

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** A span autopoll opens itself (BullMQ opens its own: add, process). */
export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed with this error (its message, redacted like a log line; never a question's text). */
  fail(err: unknown): void;
  end(): void;
  /** This span as the parent of a job's spans, for the job's `opts.telemetry.metadata`. */
  metadata(): string | undefined;
}

/**
 * OpenTelemetry as autopoll uses it: one trace per question, carried through both queues in the
 * jobs' telemetry metadata. NO_TRACING when off: the same calls, doing nothing, with no import.
 */
export interface Tracing {
  /** BullMQ's `telemetry` option for every Queue and Worker; undefined when off. */
  readonly bullmq: Telemetry | undefined;
  /** Starts a new trace (a question taken from the bridge); `startTime` in epoch ms. */
  startRoot(name: string, attributes: SpanAttributes, startTime?: number): TraceSpan;
  startChild(parent: TraceSpan, name: string, attributes: SpanAttributes): TraceSpan;
  /** Runs `fn` in a span under the active one (inside a job's `process` span). */
  inSpan<T>(name: string, attributes: SpanAttributes, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** The active span, for a job added later from a batch (outside this context). */
  activeMetadata(): string | undefined;
  /** Exports what is buffered and stops: on the way out, so that a SIGTERM loses no span. */
  shutdown(): Promise<void>;
}

const NO_SPAN: TraceSpan = { setAttributes: () => undefined, fail: () => undefined, end: () => undefined, metadata: () => undefined };

export const NO_TRACING: Tracing = {
  bullmq: undefined,
  startRoot: () => NO_SPAN,
  startChild: () => NO_SPAN,
  inSpan: (_name, _attributes, fn) => fn(NO_SPAN),
  activeMetadata: () => undefined,
  shutdown: async () => undefined,
};

/** A job option carrying a span as its parent; none without one. */
export function jobTelemetry(metadata: string | undefined): { telemetry?: { metadata: string } } {
  return metadata === undefined ? {} : { telemetry: { metadata } };
}

/**
 * Tracing as the OTEL_* variables say, the SDK imported only when they turn it on: off, a start
 * loads none of it. `serviceName` unless OTEL_SERVICE_NAME names the service.
 */
export async function startTracing(serviceName: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  const choice = tracingChoice(env);
  for (const warning of choice.warnings) logger.warn(warning);
  if (choice.exports.length === 0) return NO_TRACING;
  const { openTracing } = await import('./otelTracing.js');
  const tracing = openTracing(choice.exports, serviceName);
  logger.info({ exports: choice.exports.map((e) => (e.kind === 'otlp' ? `otlp ${e.protocol}` : e.kind)) }, 'tracing on (OpenTelemetry)');
  return tracing;
}
