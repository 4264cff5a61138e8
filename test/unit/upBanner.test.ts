import { describe, expect, it } from 'vitest';
import { upBanner, type UpServes } from '../../src/cli/upBanner.js';

describe("up's start line", () => {
  const base: UpServes = { role: undefined, roleIsDefault: false, conversations: [], bridgeDb: './data/bridge.db', askBridgeDb: undefined, boardUrl: 'http://127.0.0.1:3000/' };

  it('granted conversations only: ask in one of them, as its side a, with its token in the variable', () => {
    expect(upBanner({ ...base, conversations: ['conv_0123456789abcdef', 'conv_fedcba9876543210'] })).toBe(
      'autopoll is up: serving conversations conv_0123456789abcdef, conv_fedcba9876543210 from the bridge file ./data/bridge.db; board at http://127.0.0.1:3000/. ' +
        'Ask a question from another terminal: AUTOPOLL_ASK_TOKEN=<its session_a_token> npx autopoll ask "what is 2+2?" --conversation conv_0123456789abcdef',
    );
  });

  it('a role chosen, besides a conversation: ask creates a conversation of the role; a bridge file ask would not find by default is passed, quoted', () => {
    expect(upBanner({ ...base, role: 'team shard', conversations: ['conv_0123456789abcdef'], bridgeDb: "/srv/o'brien/bridge.db", askBridgeDb: "/srv/o'brien/bridge.db" })).toBe(
      "autopoll is up: serving conversation conv_0123456789abcdef and every conversation whose side-b role is team shard from the bridge file /srv/o'brien/bridge.db; " +
        "board at http://127.0.0.1:3000/. Ask a question from another terminal: npx autopoll ask \"what is 2+2?\" --role 'team shard' --bridge-db '/srv/o'\\''brien/bridge.db'",
    );
  });

  it('the Redis up chose itself (no --redis): named after the board, a place, never a URL with a password', () => {
    expect(upBanner({ ...base, role: 'haiku_shard', redis: 'the private redis-server in ./data/redis (password in ./data/redis/url)' })).toBe(
      'autopoll is up: serving every conversation whose side-b role is haiku_shard from the bridge file ./data/bridge.db; board at http://127.0.0.1:3000/; ' +
        'Redis: the private redis-server in ./data/redis (password in ./data/redis/url). Ask a question from another terminal: npx autopoll ask "what is 2+2?"',
    );
  });
});
