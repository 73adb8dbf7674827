import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mapInSlices } from '../../../src/server/api/slices.ts';

describe('mapInSlices', { timeout: 10_000 }, () => {
  test('maps every item in order, letting other work run between slices', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    let mapped = 0;
    const seenByOthers: number[] = [];
    // Work queued meanwhile (a phone's request, say) runs while the list is only part done.
    const others = setInterval(() => seenByOthers.push(mapped), 0);
    const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
    void tick().then(() => seenByOthers.push(mapped));
    const out = await mapInSlices(items, (i) => {
      mapped++;
      return i * 2;
    }, 100);
    clearInterval(others);
    assert.deepEqual(out, items.map((i) => i * 2));
    assert.ok(seenByOthers.some((n) => n > 0 && n < 1000), `other work ran mid-way: ${seenByOthers.join(',')}`);
    assert.deepEqual(await mapInSlices([], (i: number) => i), []);
  });
});
