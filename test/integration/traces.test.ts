import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openTracing } from '../../src/shared/tracing/otelTracing.js';
import { OtlpReceiver } from '../support/otlpReceiver.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';

/** The producer and the consumer, each in its own process, export one trace per question over OTLP/HTTP JSON. */
describe('OpenTelemetry traces', () => {
  let pipeline: SpawnedPipeline | undefined;
  let receiver: OtlpReceiver | undefined;

  afterEach(async () => {
    await pipeline?.stop();
    await receiver?.close();
  });

  /** Starts both, asks three questions at once (their jobs and answers share batches), waits for the answers, and stops both with SIGTERM (which flushes their spans). */
  async function answerOne(env: Record<string, string>): Promise<SpawnedPipeline> {
    pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')], env);
    const { producer, consumer } = await pipeline.start();
    pipeline.ask(3, 'otel');
    await pipeline.expectAllAnsweredOnce();
    const exits = await Promise.all([producer.stop(), consumer.stop()]);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    return pipeline;
  }

  it('one trace crosses the producer and the consumer: take, enqueue, the job, its answer, the answer write', async () => {
    receiver = await OtlpReceiver.start();
    const p = await answerOne({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    for (const queryId of p.queryIds) {
      const take = receiver.spans.find((s) => s.name === 'question take' && s.attributes['autopoll.query_id'] === queryId);
      expect(take, `spans received: ${receiver.spans.map((s) => `${s.service} ${s.name}`).join(', ')}`).toBeDefined();
      const spans = receiver.traces().get(take!.traceId)!;
      const named = (name: string) => spans.filter((s) => s.name === name).map((s) => s.service);
      // Each exactly once: a batch's other questions never join this trace.
      expect(named('question take')).toEqual(['autopoll-producer']);
      expect(named('question enqueue')).toEqual(['autopoll-producer']);
      expect(named('process questions')).toEqual(['autopoll-consumer']);
      expect(named('answer stub')).toEqual(['autopoll-consumer']);
      expect(named('process answers')).toEqual(['autopoll-producer']);
      expect(named('answer write')).toEqual(['autopoll-producer']);
      // One tree: every span but the take has its parent in the trace.
      const ids = new Set(spans.map((s) => s.spanId));
      expect(spans.filter((s) => s !== take && !ids.has(s.parentSpanId ?? ''))).toEqual([]);
      expect(take!.parentSpanId).toBeUndefined();
      expect(spans.find((s) => s.name === 'answer stub')!.attributes).toMatchObject({ 'gen_ai.response.model': 'stub', 'autopoll.attempt': 1 });
      expect(spans.find((s) => s.name === 'answer write')!.attributes).toMatchObject({ 'autopoll.state': 'answered', 'autopoll.outcome': 'answer' });
    }
    // Ids only: neither the question's text nor a conversation's token leaves in a span.
    const sent = receiver.bodies.join('\n');
    for (const secret of ['question otel_', p.conv.tokenA, p.conv.tokenB]) expect(sent).not.toContain(secret);
  });

  it('http/protobuf, the default protocol, sends protobuf to /v1/traces', async () => {
    receiver = await OtlpReceiver.start();
    await answerOne({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(new Set(receiver.requests.map((r) => `${r.path} ${r.contentType}`))).toEqual(new Set(['/v1/traces application/x-protobuf']));
  });

  // With no OTEL_* variable the SDK is not even loaded (startupLoads.test.ts); here the endpoint is set, and the switch off wins.
  it.each<Record<string, string>>([{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }])('nothing is sent with %o', async (off) => {
    receiver = await OtlpReceiver.start();
    await answerOne({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...off });
    expect(receiver.bodies).toEqual([]);
  });

  it('a collector that takes the connection and never answers: the stop waits a bounded moment for the last spans, then exits 0', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
      const { producer, consumer } = await pipeline.start();
      pipeline.ask(3, 'silent');
      await pipeline.expectAllAnsweredOnce();
      const started = Date.now();
      const exits = await Promise.all([producer.stop(), consumer.stop()]);
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      // The exporter's own timeout is 10 s: the stop gives it 3 s, and says it dropped them.
      expect(Date.now() - started).toBeLessThan(8000);
      expect(producer.hasLog(/the trace collector did not take the last spans in time/)).toBe(true);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  // An error's message may quote the model, the API or a process's output: a span carries it redacted, as the logs and the job's failed reason do.
  it('a failed span carries its error message redacted', async () => {
    receiver = await OtlpReceiver.start();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    try {
      const tracing = openTracing([{ kind: 'otlp', protocol: 'http/json' }], 'autopoll-test');
      const failing = tracing.inSpan('answer claude_code', {}, () => Promise.reject(new Error('the SDK said: api_key=hunter2hunter2 and sk-ant-api03-zzzzzzzzzzzz')));
      await expect(failing).rejects.toThrow('hunter2hunter2');
      await tracing.shutdown();
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
    const sent = receiver.bodies.join('\n');
    expect(sent).toContain('API_KEY_REDACTED');
    expect(sent).not.toContain('hunter2hunter2');
    expect(sent).not.toContain('sk-ant-api03-zzzzzzzzzzzz');
  });
});
