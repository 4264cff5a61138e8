import { describe, expect, it } from 'vitest';
import { answerAttributes } from '../../src/consumer/answerSpan.js';
import { tracingChoice } from '../../src/shared/tracing/tracingChoice.js';

const ENDPOINT = 'http://collector:4318';

describe('whether and how autopoll traces, from OTEL_* alone', () => {
  it('is off with no variable, and with only the protocol or the service name', () => {
    expect(tracingChoice({})).toEqual({ exports: [], warnings: [] });
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'x' }).exports).toEqual([]);
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).exports).toEqual([]);
  });

  it('an endpoint (either one) turns OTLP on, http/protobuf unless the protocol says http/json', () => {
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }).exports).toEqual([{ kind: 'otlp', protocol: 'http/protobuf' }]);
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).exports).toEqual([{ kind: 'otlp', protocol: 'http/json' }]);
    // The traces-only protocol wins over the general one.
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).exports).toEqual([{ kind: 'otlp', protocol: 'http/protobuf' }]);
  });

  it('OTEL_TRACES_EXPORTER turns it on without an endpoint (the SDK default one), or off with none', () => {
    expect(tracingChoice({ OTEL_TRACES_EXPORTER: 'otlp' }).exports).toEqual([{ kind: 'otlp', protocol: 'http/protobuf' }]);
    expect(tracingChoice({ OTEL_TRACES_EXPORTER: 'console, otlp' }).exports).toEqual([{ kind: 'console' }, { kind: 'otlp', protocol: 'http/protobuf' }]);
    expect(tracingChoice({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }).exports).toEqual([]);
  });

  it('OTEL_SDK_DISABLED=true wins over everything', () => {
    expect(tracingChoice({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }).exports).toEqual([]);
    expect(tracingChoice({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }).exports).toHaveLength(1);
  });

  it('says what it ignores: gRPC, other exporters', () => {
    expect(tracingChoice({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({ exports: [], warnings: [expect.stringContaining('grpc is not supported')] });
    expect(tracingChoice({ OTEL_TRACES_EXPORTER: 'zipkin,console' })).toEqual({ exports: [{ kind: 'console' }], warnings: [expect.stringContaining('zipkin is not supported')] });
  });
});

describe("an answer span's attributes", () => {
  it('name the model, the session, the tokens and the cost; never the answer', () => {
    const result = { answer: 'secret answer', sources: ['a.md:1'], model: 'claude-haiku', sessionId: 's-1', usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.001 } };
    const attributes = answerAttributes(result);
    expect(attributes).toEqual({ 'gen_ai.response.model': 'claude-haiku', 'gen_ai.conversation.id': 's-1', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5, 'autopoll.cost_usd': 0.001, 'autopoll.sources': 1 });
    expect(JSON.stringify(attributes)).not.toContain('secret answer');
  });
});
