import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { AutopollProcess, runAutopoll, TerminalAutopoll } from '../support/cli.js';
import { testPrefix } from '../support/pipeline.js';

/**
 * A newcomer's first ten minutes with the built CLI: readable logs on a terminal, --version, a
 * mistyped command, usage errors, `up` with no flags, a producer given nothing it can serve.
 */

const redisArgs = () => ['--redis', inject('redisUrl'), '--prefix', testPrefix()];
/** A pino line as JSON, or undefined when the line is not one. */
const json = (line: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

describe('logs', () => {
  const running: Array<{ kill: () => Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  it('on a terminal, readable lines with the same ids and no secret; Ctrl-C stops it cleanly', async () => {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const boardToken = randomBytes(32).toString('hex');
    const up = new TerminalAutopoll(
      ['up', '--answerer', 'stub', '--port', '0', ...redisArgs(), '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`],
      // NO_COLOR would turn the colours off, as it should: not for this test.
      { AUTOPOLL_BOARD_TOKEN: boardToken, NO_COLOR: undefined },
    );
    running.push(up);
    await up.waitForLine(/autopoll is up/);
    expect(up.screen).toMatch(/\x1b\[/); // coloured, as pino-pretty does on a terminal
    for (const line of up.lines) {
      expect(json(line), line).toBeUndefined();
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR)/);
    }
    expect(up.lines.find((l) => /serving conversation/.test(l))).toContain(`"conversation":"${conv.id}"`);
    for (const secret of [conv.tokenA, conv.tokenB, boardToken]) expect(up.screen).not.toContain(secret);

    expect(await up.interrupt()).toEqual({ code: 0, signal: null });
    expect(up.lines.at(-1)).toMatch(/INFO .*: stopped$/);
    bridge.close();
  });

  it('on a terminal, JSON when asked for with AUTOPOLL_LOG_FORMAT=json (or --log-format json)', async () => {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const producer = new TerminalAutopoll(
      ['producer', ...redisArgs(), '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`],
      { AUTOPOLL_LOG_FORMAT: 'json' },
    );
    running.push(producer);
    await producer.waitForLine(/"msg":"producer started"/);
    const lines = producer.lines.map(json);
    expect(lines.every((l) => l !== undefined && typeof l.level === 'number')).toBe(true);
    expect(lines.find((l) => l!.msg === 'serving conversation')).toMatchObject({ conversation: conv.id });
    expect(producer.screen).not.toContain(conv.tokenB);
    bridge.close();
  });

  it('piped, JSON by default; --log-format pretty makes it readable there too', async () => {
    const piped = new AutopollProcess(['consumer', '--answerer', 'stub', ...redisArgs()]);
    const pretty = new AutopollProcess(['consumer', '--answerer', 'stub', '--log-format', 'pretty', ...redisArgs()]);
    running.push(piped, pretty);
    await piped.waitForLog(/^consumer started$/);
    expect(piped.lines.every((l) => typeof l.level === 'number')).toBe(true);
    // AutopollProcess keeps a line that is not JSON as its msg.
    const started = await pretty.waitForLog(/consumer started/);
    // eslint-disable-next-line no-control-regex
    expect(String(started.msg).replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(.*\): consumer started /);
    expect(pretty.lines.some((l) => 'level' in l)).toBe(false);
  });
});

describe('the command line', () => {
  it('--version (and -V) prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      expect(await runAutopoll([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it.each(['start', 'run', 'serve'])('`autopoll %s` suggests `autopoll up`, exit 2', async (word) => {
    const { code, stderr } = await runAutopoll([word, '--role', 'haiku_shard']);
    expect(code).toBe(2);
    expect(stderr).toContain(`error: unknown command '${word}'\n(Did you mean \`autopoll up\`? producer, consumer and board in one process`);
  });

  it.each([
    ['worker', 'consumer'],
    ['dashboard', 'board'],
    ['retry', 'replay'],
    ['check', 'doctor'],
  ])('`autopoll %s` suggests `autopoll %s`', async (word, command) => {
    const { code, stderr } = await runAutopoll([word]);
    expect(code).toBe(2);
    expect(stderr).toContain(`(Did you mean \`autopoll ${command}\`?`);
  });

  it.each(['constructor', '__proto__', 'toString'])('`autopoll %s`, a name every object has, is an unknown command like any other', async (word) => {
    const { code, stderr } = await runAutopoll([word]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^error: unknown command '${word}'\n`));
    expect(stderr).not.toMatch(/Did you mean `autopoll (function|\[object)/);
  });

  it("a typo gets commander's own suggestion, exit 2", async () => {
    const { code, stderr } = await runAutopoll(['stauts']);
    expect(code).toBe(2);
    expect(stderr).toBe("error: unknown command 'stauts'\n(Did you mean status?)\nRun `autopoll --help` for the commands.\n");
  });

  it.each([
    ['no command at all', [], /^Usage: autopoll /],
    ['unknown command', ['frobnicate'], /^error: unknown command 'frobnicate'\nRun `autopoll --help` for the commands\.\n$/],
    ['unknown option', ['status', '--sesions', '2'], /^error: unknown option '--sesions'\nRun `autopoll status --help` for its options\.\n$/],
    ['unknown option, with a suggestion', ['consumer', '--sesions', '2'], /^error: unknown option '--sesions'\n\(Did you mean --sessions\?\)\n/],
    ['missing option argument', ['status', '--redis'], /^error: option '--redis <url>' argument missing\n/],
    ['missing argument', ['ask'], /^error: missing required argument 'question'\nRun `autopoll ask --help` for its options\.\n$/],
    ['excess arguments', ['status', 'now'], /^error: too many arguments for 'status'\. Expected 0 arguments but got 1\.\n/],
    ['bad choice', ['consumer', '--answerer', 'gpt'], /--answerer \(env AUTOPOLL_ANSWERER\): Invalid option: expected one of "claude"\|"stub"/],
    ['bad --log-format', ['board', '--log-format', 'xml'], /--log-format \(env AUTOPOLL_LOG_FORMAT\): Invalid option: expected one of "json"\|"pretty"/],
  ])('a usage error exits 2: %s', async (_what, args, message) => {
    const { code, stdout, stderr } = await runAutopoll(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  it('--help exits 0, and documents --log-format with its variable', async () => {
    const { code, stdout } = await runAutopoll(['up', '--help']);
    expect(code).toBe(0);
    expect(stdout.replace(/\s+/g, ' ')).toMatch(/--log-format <format> json .* or pretty .*; default: pretty when stdout is a terminal, json otherwise \(env: AUTOPOLL_LOG_FORMAT\)/);
  });
});

describe('`up` with no conversation named', () => {
  let up: AutopollProcess | undefined;
  afterEach(async () => {
    await up?.kill('SIGTERM');
  });

  it('serves role haiku_shard and says, in one line, how to ask it a question', async () => {
    const bridge = BridgeFixture.create();
    up = new AutopollProcess(['up', '--answerer', 'stub', '--port', '0', ...redisArgs(), '--bridge-db', bridge.path]);
    const banner = String((await up.waitForLog(/^autopoll is up/)).msg);
    const board = String((await up.waitForLog(/^operator server listening$/)).url);
    expect(banner).toBe(
      `autopoll is up: serving every conversation whose side-b role is haiku_shard (up's default; choose with --role or --conversation) ` +
        `from the bridge file ${bridge.path}; board at ${board}. ` +
        `Ask a question from another terminal: npx autopoll ask "what is 2+2?" --bridge-db ${bridge.path}`,
    );
    expect(up.hasLog(/no conversation to serve/)).toBe(false);
    // What the line says to run, run (ask's default role is up's): the new conversation is answered.
    const asked = await runAutopoll(['ask', 'what is 2+2?', '--bridge-db', bridge.path, '--wait', '30']);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
    bridge.close();
  });

  it('without Claude credentials, its last line says it answers nothing and why, instead of inviting a question', async () => {
    const bridge = BridgeFixture.create();
    // No key, and a HOME with no login: nothing Claude Code could use. No session is ever started.
    up = new AutopollProcess(['up', '--port', '0', ...redisArgs(), '--bridge-db', bridge.path], claudeEnv('http://127.0.0.1:9', null));
    const banner = await up.waitForLog(/^autopoll is up/);
    expect(banner.level).toBe(40);
    expect(String(banner.msg)).toMatch(/^autopoll is up but answers nothing: its consumer is stopped: no Claude credentials: .*; set ANTHROPIC_API_KEY .*\. It is serving every conversation whose side-b role is haiku_shard .*; questions wait in the queue until a consumer takes them\.$/);
    expect(String(banner.msg)).not.toContain('autopoll ask');
    bridge.close();
  });

  it('`producer` given neither --conversation nor --role refuses to start (exit 2), naming both and up\'s default', async () => {
    const bridge = BridgeFixture.create();
    const { code, stderr } = await runAutopoll(['producer', ...redisArgs(), '--bridge-db', bridge.path]);
    expect(code).toBe(2);
    expect(stderr).toContain('say which conversations to serve: --conversation CONV_ID:TOKEN (env AUTOPOLL_CONVERSATIONS), or --role ROLE (env AUTOPOLL_ROLE)');
    expect(stderr).toContain('`autopoll up` serves --role haiku_shard when given neither');
    bridge.close();
  });
});

describe('a producer given only conversations it cannot serve', () => {
  it('exits 2 naming each refusal and the fix; with --role it keeps running', async () => {
    const bridge = BridgeFixture.create();
    const wrong = bridge.createConversation();
    const expired = bridge.createConversation({ expiresInSec: -60 });
    const grants = [
      '--conversation', `${wrong.id}:${wrong.tokenA}`, // side a's token is not side b's
      '--conversation', `${expired.id}:${expired.tokenB}`,
      '--conversation', `conv_0123456789abcdef:${'f'.repeat(64)}`,
    ];
    const refused = await runAutopoll(['producer', ...redisArgs(), '--bridge-db', bridge.path, ...grants]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('autopoll: no conversation to serve: every conversation given was refused, and without --role no other can appear:\n');
    expect(refused.stderr).toContain(`  ${wrong.id}: token refused: it is not this conversation's side-b token\n`);
    expect(refused.stderr).toMatch(new RegExp(`  ${expired.id}: expired at \\S+ UTC\\n`));
    expect(refused.stderr).toContain('  conv_0123456789abcdef: not in the bridge file\n');
    expect(refused.stderr).toContain(`of an unexpired conversation in ${bridge.path}`);
    expect(refused.stderr).toContain('or --role ROLE (env AUTOPOLL_ROLE)');
    for (const token of [wrong.tokenA, wrong.tokenB, expired.tokenB]) expect(refused.stdout + refused.stderr).not.toContain(token);

    const withRole = new AutopollProcess(['producer', ...redisArgs(), '--bridge-db', bridge.path, ...grants, '--role', 'later_shard']);
    try {
      await withRole.waitForLog(/^producer started$/);
      // Conversations of the role may come: it stays up, and serves one that does.
      const later = bridge.createConversation({ role: 'later_shard' });
      expect(await withRole.waitForLog(/^serving conversation$/)).toMatchObject({ conversation: later.id });
      expect(withRole.child.exitCode).toBeNull();
    } finally {
      await withRole.kill('SIGTERM');
      bridge.close();
    }
  });
});
