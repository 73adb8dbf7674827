/**
 * The shared mode (PostgreSQL: any number of receivers on one database).
 *
 * The store reduces each event in its ingest transaction, so that every receiver reads the same states, and
 * draws forwarding's conclusions there too (`SharedState.conclude`). This receiver's commit queue then only
 * commits and answers; the stream follower (follower.ts) publishes the events of all receivers on the bus
 * in commit order (the queue tells it to look at once after each commit), and the states this receiver's
 * own transactions stored reach its memory before the phone is answered (`onStates`). While the database
 * is away, writes go to the local journal and move in by themselves when it is back.
 */
import type { SharedState } from '../../store/types.ts';
import { CommitQueue, type OutboxHooks } from '../commit-queue.ts';
import { StreamFollower } from './follower.ts';
import type { ModeCommitOptions, ModeOptions, ReceiverMode } from './mode.ts';

export interface SharedModeOptions extends ModeOptions {
  shared: SharedState;
}

export class SharedMode implements ReceiverMode {
  readonly kind = 'shared';
  readonly shared = true;
  readonly unsavedState = 0;
  readonly checkpointLag = 0;
  private queue: CommitQueue | undefined;
  private outbox: OutboxHooks | undefined;
  follower: StreamFollower | undefined;

  constructor(private readonly o: SharedModeOptions) {}

  get commits(): CommitQueue {
    if (!this.queue) throw new Error('the commit queue is not open yet');
    return this.queue;
  }

  get journal(): { readonly journalled: number } | undefined {
    const shared = this.o.shared;
    return shared.journal ? { get journalled() { return shared.journalled; } } : undefined;
  }

  get leases() {
    return this.o.shared.leases;
  }

  async loadStates(): Promise<void> {
    const { shared, phones, logger, now } = this.o;
    let lastError = 0;
    this.follower = new StreamFollower({
      store: this.o.store,
      shared,
      phones,
      bus: this.o.bus,
      pollMs: this.o.followPollMs,
      onForget: this.o.onForget,
      onError: (err) => {
        // Once every 10 s at most: while the database is away every poll fails.
        if (now() - lastError < 10_000) return;
        lastError = now();
        logger.warn({ err }, 'following other receivers\' events failed; retrying');
      },
    });
    await this.follower.start();
    shared.onStates((states) => {
      for (const state of states) phones.setIfNewer(state);
    });
  }

  open(options: ModeCommitOptions): CommitQueue {
    const { outbox, stateFlushMs: _ignored, ...rest } = options;
    this.outbox = outbox;
    // The store concludes in the ingest transaction, from the states it reduces there (exact whatever this
    // receiver has followed so far, and for events held in its journal when they move in).
    if (outbox) this.o.shared.conclude((before, after, calls, e) => outbox.derive(before, after, calls, e));
    this.queue = new CommitQueue({
      ...rest,
      store: this.o.store,
      ...(outbox ? { outbox } : {}),
      committed: (stored, answer) => {
        // The store's reducer ran in the transaction, and forwarding's conclusions were stored with it.
        answer();
        if (stored.length) void this.follower?.kick();
        if (this.queue!.waiting) this.queue!.schedule();
      },
    });
    return this.queue;
  }

  /**
   * What the journal held when this receiver last stopped goes in now that forwarding can conclude from it;
   * if the database is away again, the journal moves in by itself later.
   */
  async catchUp(): Promise<number> {
    const { shared, logger } = this.o;
    await shared.moveJournalIn().catch((err) => logger.warn({ err, batches: shared.journalled }, 'the local journal could not be moved into PostgreSQL yet; retrying'));
    return 0; // states are stored with each event: nothing to replay
  }

  /**
   * Calls closed by the clock, on one receiver at a time (see SharedState.expire): forwarding's conclusions
   * of that change go with the next transaction.
   */
  async expireCalls(now: number, timeoutMs: number): Promise<number> {
    const changes = await this.o.shared.expire(now, timeoutMs);
    for (const change of changes) {
      const rows = this.outbox?.derive(this.o.phones.get(change.phone.mac), change.phone, change.changedCalls, undefined);
      if (rows?.length) this.commits.addDeliveries(rows);
      this.o.phones.set(change.phone);
      this.o.bus.publish({ type: 'phone', ...change });
    }
    return changes.length;
  }

  /**
   * No checkpoints to drop; the store finds the phone's last event itself and signals every receiver (this
   * one too). Dropped here only once stored, so a refused forget leaves the phone as it is.
   */
  async forget(mac: string, purge: boolean): Promise<void> {
    const state = this.o.phones.get(mac);
    await this.o.store.write({ events: [], rejected: [], forget: [{ mac, upToEventId: state?.lastEventId ?? 0, purge }] });
    this.o.phones.delete(mac);
  }

  /** States are stored with each event. */
  flushState(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.queue?.close();
    await this.follower?.stop();
  }
}
