import { describe, expect, it, onTestFinished } from 'vitest';
import { BridgeWatcher } from '../../src/bridge/BridgeWatcher.js';
import { openBridge } from '../../src/bridge/openBridge.js';
import { BridgeFixture } from '../support/bridge.js';
import { testLogger } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

/** BridgeWatcher on a real file, another connection committing: told of each commit, and silent once stopped. */
describe('BridgeWatcher', () => {
  it('tells of another connection\'s commits without its poll, and nothing after stop() (no look left scheduled)', async () => {
    const bridge = BridgeFixture.create();
    onTestFinished(() => bridge.close());
    const db = openBridge(bridge.path, { access: 'read-only', mustHold: 'bridge' });
    onTestFinished(() => void db.close());
    let changes = 0;
    const watcher = new BridgeWatcher(db, { path: bridge.path, pollIntervalMs: 60_000, onChange: () => changes++, onLost: () => undefined }, testLogger());
    watcher.start();
    const conv = bridge.createConversation();
    for (let i = 1; i <= 20; i++) {
      bridge.send(conv.id, `message ${i}`);
      await waitFor(`commit ${i} seen`, () => changes >= i, 5000);
    }
    watcher.stop();
    const told = changes;
    bridge.send(conv.id, 'after the stop');
    // Past the last of the looks an event schedules (2 + 20 + 100 + 500 ms).
    await new Promise((r) => setTimeout(r, 900));
    expect(changes).toBe(told);
  });
});
