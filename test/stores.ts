/**
 * One suite, both stores: a test of behaviour that goes through the store is written once and runs on
 * SQLite and on PostgreSQL (PostgreSQL is required on CI and skipped, with a note, on a machine without it),
 * so a feature that works on one store only fails the suite.
 *
 *   describeEachStore('the board', { timeout: 120_000 }, (store) => {
 *     before(async () => { r = await startTestReceiver({ storeKind: store }); });
 *     …
 *   });
 */
import { describe } from 'node:test';
import { testStores, type StoreKind } from './store/pg-optional.ts';

export type { StoreKind };

export const TEST_STORES: readonly StoreKind[] = await testStores();
if (!TEST_STORES.includes('postgres')) console.warn('# PostgreSQL not reachable: store-matrix tests run on SQLite only');

/** `describe(name, options, fn)` once per store, the store's name appended to the suite's. */
export function describeEachStore(name: string, options: { timeout: number }, fn: (store: StoreKind) => void): void {
  for (const store of TEST_STORES) describe(`${name} (${store})`, options, () => fn(store));
}
