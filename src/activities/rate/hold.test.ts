import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdSlot } from './hold.js';
import { memoryRateStore } from './store.js';

const slot = { key: 'k', limit: 1, holder: 'run:step', leaseMs: 60_000 };

describe('holding a slot as an attempt starts', () => {
  it('extends the lease the step holds, and takes a free slot again once its lease lapsed', async () => {
    const store = memoryRateStore();
    await holdSlot(store, slot, new AbortController().signal);
    assert.ok((await store.acquire('k', 'other', 1, 1_000)) > 59_000, 'the lease runs for leaseMs from the attempt');
    await store.release('k', slot.holder);
    await holdSlot(store, slot, new AbortController().signal);
    assert.ok((await store.acquire('k', 'other', 1, 1_000)) > 0, 'taken again');
  });

  it('waits while every slot is taken by others, goes once one is given back, and stops when its signal aborts', async () => {
    const store = memoryRateStore();
    await store.acquire('k', 'other', 1, 60_000);
    const held = holdSlot(store, slot, new AbortController().signal);
    let done = false;
    void held.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(done, false, 'waits for the slot');
    await store.release('k', 'other');
    await held;

    const aborted = new AbortController();
    const blocked = holdSlot(store, { ...slot, holder: 'late' }, aborted.signal);
    aborted.abort(new Error('cancelled'));
    await assert.rejects(blocked, /cancelled/);
  });
});
