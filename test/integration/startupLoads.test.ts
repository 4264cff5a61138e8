import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { BridgeFixture, type Conversation } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { PackageLoads } from '../support/packageLoads.js';
import { testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const AGENT_SDK = '@anthropic-ai/claude-agent-sdk';
const OPERATOR_SERVER = ['express', '@bull-board/api', '@bull-board/express', 'prom-client'];
/** Tracing's packages: loaded only when an OTEL_* variable turns tracing on. */
const TRACING = ['@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-proto', 'bullmq-otel'];

/** Each command loads only what it uses: the packages a spawned autopoll loads, recorded from inside it. */
describe('what each command loads', () => {
  const redisUrl = inject('redisUrl');
  const prefix = testPrefix();
  const recorders: PackageLoads[] = [];
  let bridge: BridgeFixture;
  let conv: Conversation;

  const recorder = (): PackageLoads => {
    const loads = new PackageLoads();
    recorders.push(loads);
    return loads;
  };

  beforeAll(() => {
    bridge = BridgeFixture.create();
    conv = bridge.createConversation({ role: 'loads_shard' });
  });

  afterAll(() => {
    bridge.close();
    for (const loads of recorders) loads.remove();
  });

  it.each(['--help', 'status --help', 'trace --help'])('`autopoll %s` loads none of the heavy packages', async (args) => {
    const loads = recorder();
    const run = await runAutopoll(args.split(' '), loads.env);
    expect(run.code).toBe(0);
    expect(loads.packages()).toContain('commander');
    expect(loads.loaded()).toEqual([]);
    expect(loads.loaded(TRACING)).toEqual([]);
  });

  it('`status` loads neither express nor Bull Board nor prom-client', async () => {
    const loads = recorder();
    const run = await runAutopoll(['status', '--redis', redisUrl, '--prefix', prefix, '--bridge-db', bridge.path], loads.env);
    expect(run.code).toBe(0);
    expect(loads.loaded()).toEqual(expect.arrayContaining(['ioredis', 'better-sqlite3']));
    expect(loads.loaded(OPERATOR_SERVER)).toEqual([]);
  });

  it('a running producer, answering a question, never loads the Agent SDK', async () => {
    const loads = recorder();
    const producer = new AutopollProcess(['producer', '--bridge-db', bridge.path, '--role', 'loads_shard', '--redis', redisUrl, '--prefix', prefix], loads.env);
    const consumer = new AutopollProcess(['consumer', '--answerer', 'stub', '--sessions', '1', '--redis', redisUrl, '--prefix', prefix]);
    try {
      await producer.waitForLog(/producer started/);
      bridge.ask(conv.id, 'q_loads', 'Which packages?');
      await waitFor('the answer row', () => bridge.responses(conv.id).length > 0);
    } finally {
      await Promise.all([producer.stop(), consumer.stop()]);
    }
    expect(loads.loaded()).toEqual(expect.arrayContaining(['zod', 'bullmq', 'ioredis', 'better-sqlite3']));
    expect(loads.loaded([AGENT_SDK, ...OPERATOR_SERVER, ...TRACING])).toEqual([]);
  });

  // The control for TRACING: an OTLP endpoint turns tracing on, and the recorder sees its packages.
  it('a consumer with OTEL_EXPORTER_OTLP_ENDPOINT loads the OpenTelemetry SDK and bullmq-otel', async () => {
    const loads = recorder();
    const consumer = new AutopollProcess(['consumer', '--answerer', 'stub', '--sessions', '1', '--redis', redisUrl, '--prefix', prefix], { ...loads.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_TIMEOUT: '500' });
    try {
      await consumer.waitForLog(/^consumer started$/);
    } finally {
      await consumer.stop();
    }
    expect(loads.loaded(TRACING)).toEqual(TRACING);
  });

  // The control: the recorder does see a heavy package where it is used.
  it('`consumer --answerer claude` loads the Agent SDK', async () => {
    const loads = recorder();
    const consumer = new AutopollProcess(['consumer', '--redis', redisUrl, '--prefix', prefix, '--sessions', '1'], { ...loads.env, ANTHROPIC_API_KEY: 'sk-test-unused' });
    try {
      await waitFor('the Agent SDK loaded', () => loads.packages().has(AGENT_SDK) || undefined, 30_000, 100);
    } finally {
      await consumer.stop();
    }
  });
});
