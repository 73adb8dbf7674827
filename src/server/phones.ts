/**
 * Every phone's live state, in memory: loaded from the store at start-up, replaced after each commit. The
 * API and the dashboard read it from here; only the commit queue writes it.
 */
import type { PhoneState } from '../domain/types.ts';

export class PhoneRegistry {
  private readonly byMac = new Map<string, PhoneState>();

  get(mac: string): PhoneState | undefined {
    return this.byMac.get(mac);
  }

  /** Every phone, by MAC. */
  all(): PhoneState[] {
    return [...this.byMac.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  get size(): number {
    return this.byMac.size;
  }

  set(state: PhoneState): void {
    this.byMac.set(state.mac, state);
  }

  /**
   * Keeps `state` unless the registry already has a state of that phone that includes a later event (on a
   * shared store, a receiver's own commit and its follower may hand over states of one phone out of order).
   */
  setIfNewer(state: PhoneState): void {
    const current = this.byMac.get(state.mac);
    if (!current || current.lastEventId <= state.lastEventId) this.byMac.set(state.mac, state);
  }

  /** Forgets a phone (see CommitQueue.forget); its next event starts a new state. */
  delete(mac: string): boolean {
    return this.byMac.delete(mac);
  }
}
