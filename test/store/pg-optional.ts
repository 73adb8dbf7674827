/**
 * PostgreSQL for test files that a user may run without it (their tests are skipped) and that must run on
 * CI (where not reaching it fails the run, with the reason, instead of skipping).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_BASE = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
/** On CI the database is part of the set-up. */
export const ON_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

/** An admin connection, or undefined on a machine without PostgreSQL; on CI that throws instead. */
export async function connectOptionalAdmin(): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: PG_BASE });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    if (!ON_CI) return undefined;
    const where = PG_BASE.replace(/\/\/[^@/]*@/, '//…@');
    throw new Error(`CI is set but PostgreSQL at ${where} cannot be reached (${(err as Error).message}); set ACTIONURL_TEST_PG or start the database`, { cause: err });
  }
}

/** A fresh schema name (`<prefix>_<random>`), for a store of its own in the shared test database. */
export function testSchema(prefix = 'au_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The stores a receiver can run on; tests of behaviour that goes through the store run on each. */
export type StoreKind = 'sqlite' | 'postgres';

/**
 * The stores to run a store-touching test on: SQLite always, PostgreSQL when it can be reached (on CI it
 * must be: not reaching it throws, with the reason). See test/stores.ts for the usual way in.
 */
export async function testStores(): Promise<StoreKind[]> {
  const client = await connectOptionalAdmin();
  if (!client) return ['sqlite'];
  await client.end();
  return ['sqlite', 'postgres'];
}

/** The `--db` URL of a PostgreSQL store in this schema of the test database. */
export function pgUrl(schema: string): string {
  const u = new URL(PG_BASE);
  u.searchParams.set('schema', schema);
  return u.toString();
}

/** Drops test schemas (with whatever a receiver made in them). */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_BASE });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await client.end();
  }
}
