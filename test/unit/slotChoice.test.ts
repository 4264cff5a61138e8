import { describe, expect, it } from 'vitest';
import { chooseSlot, maxConcurrentStarts, mayCloseIdle, slotsToOpen, spareWanted, type SlotView } from '../../src/consumer/claude/slotChoice.js';

type Opts = Partial<Omit<SlotView, 'state'>>;
/** An open slot is warm unless told otherwise. */
const slot = (state: SlotView['state'], o: Opts = {}): SlotView => ({ state, busy: false, holds: undefined, clearing: false, warm: state === 'open', failed: false, backingOff: false, ...o });
const numbered = (slots: SlotView[]) => slots.map((s, id) => ({ ...s, id }));
const starting: Opts = { warm: false };
const demand = (o: Partial<{ waiting: number; spare: number; minSessions: number; maxStarts: number }> = {}) => ({ waiting: 0, spare: 1, minSessions: 1, maxStarts: 8, ...o });

describe('slot choice of the elastic session pool', () => {
  it('takes the free session that holds the conversation, then a clear one', () => {
    const slots = numbered([slot('open', { busy: true }), slot('open', { holds: 'conv_b' }), slot('open', { holds: 'conv_a' }), slot('closed')]);
    expect(chooseSlot(slots, 'conv_a')).toBe(slots[2]);
    const clear = numbered([slot('open', { holds: 'conv_b' }), slot('open'), slot('closed')]);
    expect(chooseSlot(clear, 'conv_a')).toBe(clear[1]);
  });

  it('prefers warm and cleared, then warm and clearing, then a warm one holding another conversation; never one still starting', () => {
    const slots = numbered([slot('open', starting), slot('open', { clearing: true }), slot('open')]);
    expect(chooseSlot(slots, 'conv_a')).toBe(slots[2]);
    const clearingOrStarting = numbered([slot('open', starting), slot('open', { holds: 'conv_b' }), slot('open', { clearing: true })]);
    expect(chooseSlot(clearingOrStarting, 'conv_a')).toBe(clearingOrStarting[2]);
    const otherOrStarting = numbered([slot('open', starting), slot('open', { holds: 'conv_b' })]);
    expect(chooseSlot(otherOrStarting, 'conv_a')).toBe(otherOrStarting[1]);
    // Only a start on its way: the question waits for whichever session is usable first.
    expect(chooseSlot(numbered([slot('open', { busy: true }), slot('open', starting), slot('closed')]), 'conv_a')).toBeUndefined();
  });

  it('gives a slot whose start failed only when no warm one is free, and never a busy or closing one', () => {
    const slots = numbered([slot('open', { warm: false, failed: true }), slot('open', { clearing: true })]);
    expect(chooseSlot(slots, 'conv_a')).toBe(slots[1]);
    const failedOnly = numbered([slot('open', { busy: true }), slot('open', { warm: false, failed: true })]);
    expect(chooseSlot(failedOnly, 'conv_a')).toBe(failedOnly[1]);
    expect(chooseSlot(numbered([slot('open', { busy: true }), slot('closing')]), 'conv_a')).toBeUndefined();
  });

  it('a slot backing off after failed starts is neither given to a question, nor a start under way, nor a session that serves', () => {
    const backingOff: Opts = { warm: false, backingOff: true };
    expect(chooseSlot(numbered([slot('open', backingOff), slot('closed')]), 'conv_a')).toBeUndefined();
    // A question waits: a closed slot opens beside the one backing off, within the cap it does not take up.
    const slots = numbered([slot('open', backingOff), slot('open', { ...backingOff }), slot('closed'), slot('closed')]);
    expect(slotsToOpen(slots, demand({ waiting: 1, spare: 0, maxStarts: 1 })).map((s) => s.id)).toEqual([2]);
    // An idle warm session is not closed on the strength of slots that serve nobody for now.
    expect(mayCloseIdle([slot('open'), slot('open', backingOff)], demand({ spare: 0 }))).toBe(false);
  });

  it('opens closed slots for the busy, the waiting and the spare, not past the concurrent-start cap', () => {
    const allBusy = numbered([slot('open', { busy: true }), slot('closing'), slot('closed'), slot('closed')]);
    expect(slotsToOpen(allBusy, demand()).map((s) => s.id)).toEqual([2]);
    expect(slotsToOpen(allBusy, demand({ waiting: 1 })).map((s) => s.id)).toEqual([2, 3]);
    expect(slotsToOpen(allBusy, demand({ spare: 0 }))).toEqual([]);
    expect(slotsToOpen(numbered([slot('open', { busy: true }), slot('open'), slot('closed')]), demand())).toEqual([]);
    // A start already on its way covers a waiting question.
    expect(slotsToOpen(numbered([slot('open', { busy: true }), slot('open', starting), slot('closed')]), demand({ waiting: 1, spare: 0 }))).toEqual([]);
    // 32 questions waiting on a pool shrunk to one, 2 cores: two start now, the rest as those end.
    const shrunk = numbered([slot('open', { busy: true }), ...Array.from({ length: 31 }, () => slot('closed'))]);
    expect(slotsToOpen(shrunk, demand({ waiting: 31, maxStarts: 2 })).map((s) => s.id)).toEqual([1, 2]);
    const oneStarting = numbered([slot('open', { busy: true }), slot('open', starting), ...Array.from({ length: 30 }, () => slot('closed'))]);
    expect(slotsToOpen(oneStarting, demand({ waiting: 31, maxStarts: 2 })).map((s) => s.id)).toEqual([2]);
    // The minimum at start, a cap's worth at a time.
    expect(slotsToOpen(numbered([slot('closed'), slot('closed'), slot('closed')]), demand({ minSessions: 3, spare: 0, maxStarts: 2 })).map((s) => s.id)).toEqual([0, 1]);
  });

  it('caps concurrent starts at one per core, and at least one', () => {
    expect(maxConcurrentStarts(2)).toBe(2);
    expect(maxConcurrentStarts(16)).toBe(16);
    expect(maxConcurrentStarts(0)).toBe(1);
  });

  it('wants a spare only while questions were concurrent within the idle timeout: a trickle opens none', () => {
    expect(spareWanted(Infinity, 60_000)).toBe(0); // never two at once: a trickle
    expect(spareWanted(59_000, 60_000)).toBe(1);
    expect(spareWanted(60_000, 60_000)).toBe(0);
    // A trickle on one warm session: nothing to open, nothing to close.
    const trickle = numbered([slot('open', { busy: true }), slot('closed')]);
    expect(slotsToOpen(trickle, demand({ spare: spareWanted(Infinity, 60_000) }))).toEqual([]);
  });

  it('lets an idle session close only above the minimum and what the demand needs: busy slots are needed, not room', () => {
    expect(mayCloseIdle([slot('open'), slot('open')], demand({ spare: 0 }))).toBe(true);
    expect(mayCloseIdle([slot('open'), slot('closing')], demand({ spare: 0 }))).toBe(false);
    expect(mayCloseIdle([slot('open')], demand({ spare: 0 }))).toBe(false);
    // One busy, one idle spare, concurrency within the window: the spare stays (it would reopen at once).
    expect(mayCloseIdle([slot('open', { busy: true }), slot('open')], demand())).toBe(false);
    expect(mayCloseIdle([slot('open', { busy: true }), slot('open')], demand({ spare: 0 }))).toBe(true);
    expect(mayCloseIdle([slot('open', { busy: true }), slot('open'), slot('open')], demand())).toBe(true);
  });
});
