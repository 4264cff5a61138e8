import { describe, expect, it } from 'vitest';
import { Coalesced } from '../../src/shared/Coalesced.js';

describe('Coalesced', () => {
  it('runs at once when idle; calls during a run fold into one run after it; settled() ends with the run under way', async () => {
    const releases: Array<() => void> = [];
    let runs = 0;
    const c = new Coalesced(() => {
      runs++;
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    c.run();
    expect(runs).toBe(1);
    for (let i = 0; i < 5; i++) c.run();
    expect(runs).toBe(1);
    let settled = false;
    const waiting = c.settled().then(() => (settled = true));
    releases[0]!();
    await waiting;
    expect(settled).toBe(true);
    expect(runs).toBe(2); // the five calls made during the first run: one run after it
    releases[1]!();
    await c.settled();
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    c.run();
    expect(runs).toBe(3);
    releases[2]!();
    await c.settled();
  });

  it('settled() with nothing under way ends at once', async () => {
    await expect(new Coalesced(async () => undefined).settled()).resolves.toBeUndefined();
  });
});
