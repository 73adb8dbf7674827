/**
 * Every phone's live state, in memory: loaded from the store at start-up, replaced after each commit. The
 * API and the dashboard read it from here; only the commit queue writes it.
 */
import type { PhoneState } from '../domain/types.ts';

export class PhoneRegistry {
  private readonly byMac = new Map<string, PhoneState>();
  /** MACs in order, for paging; rebuilt only after a phone was added (rare next to state updates). */
  private sorted: string[] | undefined;

  get(mac: string): PhoneState | undefined {
    return this.byMac.get(mac);
  }

  /** Every phone, in no particular order (cheap: for sweeps over all phones). */
  values(): IterableIterator<PhoneState> {
    return this.byMac.values();
  }

  /** Every phone, by MAC. */
  all(): PhoneState[] {
    return this.macs().map((mac) => this.byMac.get(mac)!);
  }

  /** Up to `limit` phones with a MAC after `after` (all when undefined), by MAC, and whether more follow. */
  page(after: string | undefined, limit: number): { phones: PhoneState[]; more: boolean } {
    const macs = this.macs();
    let lo = 0;
    if (after !== undefined) {
      // First MAC greater than `after` (binary search: pages stay cheap with tens of thousands of phones).
      let hi = macs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (macs[mid] <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    const slice = macs.slice(lo, lo + limit);
    return { phones: slice.map((mac) => this.byMac.get(mac)!), more: lo + limit < macs.length };
  }

  get size(): number {
    return this.byMac.size;
  }

  set(state: PhoneState): void {
    this.store(state);
  }

  /**
   * Keeps `state` unless the registry already has a state of that phone that includes a later event (on a
   * shared store, a receiver's own commit and its follower may hand over states of one phone out of order).
   */
  setIfNewer(state: PhoneState): void {
    const current = this.byMac.get(state.mac);
    if (!current || current.lastEventId <= state.lastEventId) this.store(state);
  }

  /** The one writer of the map: a phone not seen before makes the MAC order stale, whichever path added it. */
  private store(state: PhoneState): void {
    if (!this.byMac.has(state.mac)) this.sorted = undefined;
    this.byMac.set(state.mac, state);
  }

  /** Forgets a phone (see CommitQueue.forget); its next event starts a new state. */
  delete(mac: string): boolean {
    const had = this.byMac.delete(mac);
    if (had) this.sorted = undefined;
    return had;
  }

  private macs(): string[] {
    this.sorted ??= [...this.byMac.keys()].sort();
    return this.sorted;
  }
}
