/**
 * PostgreSQL storage: not in this version yet. `--db postgres://…` says so in one line instead of failing
 * somewhere deeper; the SQLite store implements the same Store interface in the meantime.
 */
import type { Store } from './types.ts';
import { StoreConfigError, redactDbUrl } from './open.ts';

export const PostgresStore = {
  async connect(url: string): Promise<Store> {
    throw new StoreConfigError(
      `--db ${redactDbUrl(url)}: PostgreSQL storage is not available in this version yet; use a SQLite file (--db data/actionurl.sqlite)`,
    );
  },
};
