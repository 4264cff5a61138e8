import { closeRedis, within } from '../shared/closing.js';
import type { Logger } from '../shared/logger.js';
import type { Running } from './lifecycle.js';
import type { COMMON, Parsed, SERVER } from './options.js';
import type { startOperatorServer, ServedParts } from './operatorWiring.js';

/**
 * Starts what a long-running command serves over its Redis connection: the operator server
 * first (a bind it may not make fails the start before any work is taken), then the producer and
 * the consumer. Stopping runs the other way: the server, the consumer (its in-flight answers
 * still reach the producer's queue), the producer, the connection.
 */
export async function startServices(
  o: Parsed<typeof COMMON> & Parsed<typeof SERVER>,
  parts: ServedParts,
  logger: Logger,
  /** Aborted by a shutdown signal while starting: the parts not started yet are not started, the producer and consumer give up their starts. */
  stopping?: AbortSignal,
): Promise<Running & { serverUrl: string | undefined }> {
  const { redis, producer, consumer } = parts;
  let server: Awaited<ReturnType<typeof startOperatorServer>> | undefined;
  let producerStarted = false;
  try {
    // Imported only when served: express, Bull Board and prom-client are most of a start's imports.
    if (o.port !== undefined) server = await (await import('./operatorWiring.js')).startOperatorServer(o, parts, logger);
    // A signal while starting: what has not started yet is not started (its stop would only wait).
    stopping?.throwIfAborted();
    await producer?.start(stopping);
    producerStarted = producer !== undefined;
    stopping?.throwIfAborted();
    await consumer?.start(stopping);
    return {
      serverUrl: server?.url,
      failed: producer && new Promise((lost) => producer.once('lost', lost)),
      stop: async () => {
        await server?.stop();
        await consumer?.close(o.shutdownTimeout * 1000);
        await producer?.close(o.shutdownTimeout * 1000);
        await closeRedis(redis);
        await flushSpans(parts, logger);
      },
    };
  } catch (err) {
    await server?.stop();
    if (producerStarted) await producer?.close(o.shutdownTimeout * 1000);
    await closeRedis(redis);
    await flushSpans(parts, logger);
    throw err;
  }
}

/**
 * The last spans get a bounded moment: the drain before may already have used most of the stop's
 * time, and a collector that does not answer (its export timeout is 10 s) must not turn a clean
 * stop into a forced exit. Spans still unsent then are dropped, with a warning.
 */
const FLUSH_SPANS_MS = 3000;

async function flushSpans(parts: ServedParts, logger: Logger): Promise<void> {
  if (!parts.tracing) return;
  const flushed = parts.tracing.shutdown().catch((err: unknown) => logger.warn({ err }, 'exporting the last spans failed'));
  if (!(await within(flushed, FLUSH_SPANS_MS))) logger.warn({ waitedMs: FLUSH_SPANS_MS }, 'the trace collector did not take the last spans in time; they are dropped');
}
