import { afterEach, describe, expect, inject, it } from 'vitest';
import { BridgeFixture } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { testPrefix } from '../support/pipeline.js';

/**
 * A newcomer's first ten minutes with the built CLI: readable logs on a terminal, --version, a
 * mistyped command, usage errors, `up` with no flags, a producer given nothing it can serve.
 */

const redisArgs = () => ['--redis', inject('redisUrl'), '--prefix', testPrefix()];

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
        `Ask a question from another terminal: npx autopoll ask "what is 2+2?" --role haiku_shard --bridge-db ${bridge.path}`,
    );
    expect(up.hasLog(/no conversation to serve/)).toBe(false);
    // What the line says to run, run: the default role's new conversation is answered.
    const asked = await runAutopoll(['ask', 'what is 2+2?', '--role', 'haiku_shard', '--bridge-db', bridge.path, '--wait', '30']);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toMatch(/^Stub answer to q_[0-9a-f]+\.\n$/);
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
