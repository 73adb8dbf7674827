/** How the receiver opens its store: the journal while PostgreSQL is away, and what it logs about it. */
import { openStore } from '../store/open.ts';
import type { Journal } from '../store/journal.ts';
import type { PostgresOptions } from '../store/postgres.ts';
import type { Store } from '../store/types.ts';
import type { Start } from './parts.ts';

/** Opens the configured `db`, on `journal` when one is open already. */
export function openConfiguredStore(start: Start, journal: Journal | undefined): Promise<Store> {
  return openStore(start.config.store.db, { ...storeOptions(start), ...(journal ? { journal } : {}) });
}

function storeOptions(start: Start): PostgresOptions {
  const { config, logger } = start;
  return {
    journal: config.store.journal,
    timeoutMs: config.store.timeoutMs,
    onJournal: (event, { batches, err }) => {
      if (event === 'journalling') logger.warn({ err, batches }, 'PostgreSQL unreachable: events go to the local journal');
      else {
        logger.info({ batches }, 'local journal moved into PostgreSQL');
        // Outbox rows moved in with it (some about no new event) can be sent now.
        start.journalMoved.wake?.();
      }
    },
    onError: (err) => logger.error({ err }, 'moving the local journal into PostgreSQL failed'),
  };
}
