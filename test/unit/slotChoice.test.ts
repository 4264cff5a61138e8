import { describe, expect, it } from 'vitest';
import { chooseSlot, mayCloseIdle, sparesToOpen, type SlotView } from '../../src/consumer/claude/slotChoice.js';

const slot = (state: SlotView['state'], busy = false, holds?: string, clearing = false): SlotView & { id: number } => ({ id: 0, state, busy, holds, clearing });
const numbered = (slots: SlotView[]) => slots.map((s, id) => ({ ...s, id }));

describe('slot choice of the elastic session pool', () => {
  it('takes the free session that holds the conversation, then a clear one, before opening a closed slot', () => {
    const slots = numbered([slot('open', true), slot('open', false, 'conv_b'), slot('open', false, 'conv_a'), slot('closed')]);
    expect(chooseSlot(slots, 'conv_a')).toEqual({ slot: slots[2], opens: false });
    const clear = numbered([slot('open', false, 'conv_b'), slot('open'), slot('closed')]);
    expect(chooseSlot(clear, 'conv_a')).toEqual({ slot: clear[1], opens: false });
  });

  it('takes a session still clearing after its last answer only when no cleared one is free', () => {
    const slots = numbered([slot('open', false, undefined, true), slot('open'), slot('closed')]);
    expect(chooseSlot(slots, 'conv_a')).toEqual({ slot: slots[1], opens: false });
    const onlyClearing = numbered([slot('open', true), slot('open', false, undefined, true), slot('closed')]);
    expect(chooseSlot(onlyClearing, 'conv_a')).toEqual({ slot: onlyClearing[1], opens: false });
  });

  it('opens a closed slot when every live session is busy or closing, and waits when none is closed', () => {
    const slots = numbered([slot('open', true), slot('closing'), slot('closed')]);
    expect(chooseSlot(slots, 'conv_a')).toEqual({ slot: slots[2], opens: true });
    expect(chooseSlot(numbered([slot('open', true), slot('closing')]), 'conv_a')).toBeUndefined();
  });

  it('starts spares ahead of need only while fewer than the spare count are free, and only closed slots', () => {
    const allBusy = numbered([slot('open', true), slot('closing'), slot('closed'), slot('closed')]);
    expect(sparesToOpen(allBusy, 1).map((s) => s.id)).toEqual([2]);
    expect(sparesToOpen(allBusy, 2).map((s) => s.id)).toEqual([2, 3]);
    expect(sparesToOpen(numbered([slot('open', true), slot('open'), slot('closed')]), 1)).toEqual([]);
    expect(sparesToOpen(numbered([slot('open', true)]), 1)).toEqual([]);
  });

  it('lets an idle session close only above the minimum, not counting the ones already closing', () => {
    expect(mayCloseIdle([slot('open'), slot('open')], 1)).toBe(true);
    expect(mayCloseIdle([slot('open'), slot('closing')], 1)).toBe(false);
    expect(mayCloseIdle([slot('open')], 1)).toBe(false);
  });
});
