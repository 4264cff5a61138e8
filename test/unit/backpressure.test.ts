import { describe, expect, it } from 'vitest';
import { Backpressure, withinRoom } from '../../src/producer/Backpressure.js';
import { testLogger } from '../support/pipeline.js';

const v = (accept: boolean, id: number) => ({ accept, id });

describe('withinRoom', () => {
  it('keeps verdicts up to the room-th accepted one; refusals cost nothing', () => {
    const verdicts = [v(true, 1), v(false, 2), v(true, 3), v(false, 4), v(true, 5)];
    expect(withinRoom(verdicts, 2).map((x) => x.id)).toEqual([1, 2, 3, 4]);
    expect(withinRoom(verdicts, 1).map((x) => x.id)).toEqual([1, 2]);
    expect(withinRoom(verdicts, 3)).toEqual(verdicts);
    expect(withinRoom([v(false, 1), v(false, 2)], 0)).toHaveLength(2);
  });
});

describe('Backpressure', () => {
  it('admits up to the room, holds while full, and says so once each way', async () => {
    let waiting = 15;
    let asked = 0;
    const changes: boolean[] = [];
    const gate = new Backpressure(async () => (asked++, waiting), { maxQueued: 20, recheckMs: 10, freshMs: 60_000 }, testLogger());
    gate.on('changed', (e) => changes.push(e.engaged));
    const signal = new AbortController().signal;
    expect(await gate.admit(10, signal)).toBe(5);
    expect(asked).toBe(1);
    // The fresh estimate (15 + 5) leaves no room: Redis is asked again, and the gate holds.
    waiting = 20;
    const held = gate.admit(3, signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(gate.engaged).toBe(true);
    waiting = 19;
    expect(await held).toBe(1);
    expect(gate.engaged).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(await gate.admit(0, signal)).toBe(0);
  });

  it('trusts a fresh count while far below the limit (no round trip per batch)', async () => {
    let asked = 0;
    const gate = new Backpressure(async () => (asked++, 0), { maxQueued: 100, recheckMs: 10, freshMs: 60_000 }, testLogger());
    const signal = new AbortController().signal;
    for (let i = 0; i < 9; i++) expect(await gate.admit(10, signal)).toBe(10);
    expect(asked).toBe(1);
    expect(await gate.admit(20, signal)).toBe(20); // past the estimate: asks again (still 0 waiting)
    expect(asked).toBe(2);
  });

  it('a held wait ends when the producer stops', async () => {
    const gate = new Backpressure(async () => 50, { maxQueued: 20, recheckMs: 10, freshMs: 0 }, testLogger());
    const stop = new AbortController();
    const held = gate.admit(1, stop.signal);
    setTimeout(() => stop.abort(), 30);
    await expect(held).rejects.toThrow(/abort/i);
  });
});

describe('Backpressure while Redis is unreachable', () => {
  it('admits the batch (its enqueue waits for Redis) without counting it', async () => {
    const gate = new Backpressure(async () => undefined, { maxQueued: 5, recheckMs: 10, freshMs: 60_000 }, testLogger());
    expect(await gate.admit(50, new AbortController().signal)).toBe(50);
    expect(gate.engaged).toBe(false);
  });
});
