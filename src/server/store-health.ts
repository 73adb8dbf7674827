/**
 * Whether the store can take events, as the commits show it: a commit that failed for want of space (see
 * store/full.ts) makes the receiver "full" until a commit succeeds again. Reads keep working meanwhile, so
 * only this tells `/healthz` that phones are being refused.
 */
import { isStoreFull } from '../store/full.ts';

export class StoreHealth {
  private fullSince: number | undefined;

  constructor(private readonly now: () => number) {}

  /** A commit failed with `err`. */
  failed(err: unknown): void {
    if (isStoreFull(err)) this.fullSince ??= this.now();
  }

  /** A commit succeeded: there is space again. */
  stored(): void {
    this.fullSince = undefined;
  }

  /** Why events cannot be stored right now, in one line; undefined when they can. */
  problem(): string | undefined {
    if (this.fullSince === undefined) return undefined;
    return `the disk is full: events are refused (503) since ${new Date(this.fullSince).toISOString()}, until there is space again`;
  }
}
