/** The requests a receiver kept in its journal while it started on it, put through its ingest. */
import { createIngestHandler, recordRejected, redactForStorage } from '../server/ingest.ts';
import { replayHeld } from '../server/standby.ts';
import type { Journal } from '../store/journal.ts';
import type { Receiver, Start } from './parts.ts';

/**
 * Puts the requests a receiver kept while it started on its journal through `receiver`'s ingest, with the
 * time each came (see src/server/standby.ts); `onEmpty` is called once none is left.
 */
export async function storeKept(start: Start, receiver: Receiver, journal: Journal, onEmpty = () => {}, refusalsNotKept = 0): Promise<void> {
  const { ctx, replay } = receiver;
  const clock = { at: 0 };
  const moved = await replayHeld({
    journal,
    ingest: createIngestHandler({ ...ctx, now: () => clock.at }, replay),
    clock,
    recordRefusal: (row, result) => recordRejected(ctx, replay.sampler, row, result),
    redact: (target) => redactForStorage(target, ctx.settings),
    onEmpty,
  });
  start.logger.info({ ...moved, refusalsNotKept: refusalsNotKept || undefined }, 'PostgreSQL reached: the requests kept while starting on the local journal went through ingest');
}
