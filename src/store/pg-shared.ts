/**
 * The part of the PostgreSQL store that several receivers share (`Store.shared`, see SharedState): a
 * consistent snapshot of the phones' stored states, reads by phone and by event for the stream follower,
 * the listener for other receivers' commits (pg-listen.ts), the delivery leases (pg-leases.ts), and closing
 * silent calls in the stored states on one receiver at a time.
 */
import type pg from 'pg';
import { expireCalls } from '../domain/expire.ts';
import type { CallState, PhoneState } from '../domain/types.ts';
import { LOCKS, upsertCalls, upsertPhones } from './pg-ingest.ts';
import { pgLeases } from './pg-leases.ts';
import { listen } from './pg-listen.ts';
import type { PgWriter } from './pg-writes.ts';
import type { PhoneChange, SharedState } from './types.ts';

export interface SharedParts {
  /** Reads, signals and locks. */
  pool: pg.Pool;
  /** What the listener's own connection is made with. */
  config: pg.ClientConfig;
  /** The NOTIFY channel of this database and schema. */
  channel: string;
  /** Commits (and their journal), whose states and conclusions the shared part hooks into. */
  writer: PgWriter;
  /** There is a local journal. */
  journal: boolean;
}

export function sharedState(o: SharedParts): SharedState {
  const { pool, writer } = o;
  return {
    get journalled() {
      return writer.journalled;
    },
    journal: o.journal,
    onStates: (listener) => {
      writer.statesListeners.push(listener);
    },
    snapshot: async () => {
      // Under the append lock (READ COMMITTED: each statement sees everything committed before it), so no
      // event commits between reading the last id and the phones.
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.append]);
        const seq = await c.query<{ last_value: number; is_called: boolean }>('SELECT last_value, is_called FROM events_id_seq');
        const phones = await c.query<{ state: PhoneState }>('SELECT state FROM phones');
        await c.query('COMMIT');
        const row = seq.rows[0];
        return { phones: phones.rows.map((r) => r.state), lastEventId: row && row.is_called ? row.last_value : 0 };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    phones: async (macs) => {
      if (!macs.length) return [];
      const res = await pool.query<{ state: PhoneState }>('SELECT state FROM phones WHERE mac = ANY($1::text[])', [macs]);
      return res.rows.map((r) => r.state);
    },
    callsChangedBy: async (ids) => {
      if (!ids.length) return [];
      const res = await pool.query<{ id: number; mac: string; state: CallState }>(
        'SELECT id, mac, state FROM calls WHERE last_event_id = ANY($1::bigint[]) ORDER BY last_event_id, id',
        [ids],
      );
      return res.rows.map((r) => ({ id: r.id, mac: r.mac, call: r.state }));
    },
    listen: (handlers) => listen(o.config, o.channel, handlers),
    leases: pgLeases(pool),
    expire: (now, timeoutMs) => expire(pool, o.channel, now, timeoutMs),
    conclude: (conclude) => {
      writer.conclude = conclude;
    },
    moveJournalIn: () => writer.moveJournalIn(),
  };
}

/**
 * Calls silent for too long, closed in the stored states. One receiver at a time (a session advisory lock,
 * released by PostgreSQL if that receiver dies); each phone in a short transaction under the append lock,
 * so it never races an event of that phone.
 */
async function expire(pool: pg.Pool, channel: string, now: number, timeoutMs: number): Promise<PhoneChange[]> {
  const c = await pool.connect();
  const changes: PhoneChange[] = [];
  try {
    const got = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS.expire]);
    if (!got.rows[0].ok) return [];
    try {
      // Phones with an open call, or marked busy: the only ones expiry can change.
      const candidates = await c.query<{ mac: string }>(
        "SELECT mac FROM phones WHERE json_array_length(state->'calls') > 0 OR (state->>'busy')::boolean",
      );
      for (const { mac } of candidates.rows) {
        await c.query('BEGIN');
        try {
          await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.append]);
          const res = await c.query<{ state: PhoneState }>('SELECT state FROM phones WHERE mac = $1', [mac]);
          const before = res.rows[0]?.state;
          const after = before ? expireCalls(before, now, timeoutMs) : undefined;
          if (after && after.state !== before) {
            await upsertPhones(c, [after.state]);
            await upsertCalls(c, after.changedCalls.map((call) => ({ mac, call })));
            changes.push({ phone: after.state, changedCalls: after.changedCalls });
          }
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => {});
          throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.expire]).catch(() => {});
    }
    // Tell the other receivers which phones to reload (a notification holds at most 8000 bytes).
    const macs = changes.map((x) => x.phone.mac);
    for (let i = 0; i < macs.length; i += 400) {
      await c.query('SELECT pg_notify($1, $2)', [channel, `p:${macs.slice(i, i + 400).join(',')}`]);
    }
    return changes;
  } finally {
    c.release();
  }
}
