/**
 * Mapping a long list a slice at a time, letting the event loop run between slices: a page of a thousand
 * phone summaries is tens of milliseconds of work on a busy machine, which phones' requests should not wait
 * behind in one piece.
 */
export const SLICE = 100;

export async function mapInSlices<T, U>(items: readonly T[], fn: (item: T) => U, size = SLICE): Promise<U[]> {
  const out: U[] = new Array<U>(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % size === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    out[i] = fn(items[i]);
  }
  return out;
}
