/**
 * Delivery leases on PostgreSQL (see DeliveryLeases in types.ts): one row per (destination, shard), held by
 * one receiver until `expires_at`, timed by the database's clock so that receivers' clocks need not agree.
 * Receivers record themselves and a digest of what they forward to in `forwarding_peers`, which tells each
 * one how many share a destination (its fair share of shards) and whether they are configured alike.
 */
import type pg from 'pg';
import { DELIVERY_SHARDS } from './delivery-rows.ts';
import type { DeliveryLeases, ForwardingPeer } from './types.ts';

/** `clock_timestamp() + <ms>`: the database's now, not the transaction's start. */
const IN_MS = (param: string) => `clock_timestamp() + ${param} * interval '1 millisecond'`;

export function pgLeases(pool: pg.Pool): DeliveryLeases {
  return {
    async heartbeat(peer: ForwardingPeer, leaseMs: number): Promise<ForwardingPeer[]> {
      await pool.query(
        `INSERT INTO forwarding_peers (holder, destinations, seen_at) VALUES ($1, $2, clock_timestamp())
         ON CONFLICT (holder) DO UPDATE SET destinations = excluded.destinations, seen_at = excluded.seen_at`,
        [peer.holder, JSON.stringify(peer.destinations)],
      );
      // Receivers gone for long are forgotten (the ones alive write themselves back every few seconds).
      await pool.query(`DELETE FROM forwarding_peers WHERE seen_at < ${IN_MS('$1')}`, [-leaseMs * 20]);
      const res = await pool.query<{ holder: string; destinations: ForwardingPeer['destinations'] }>(
        `SELECT holder, destinations FROM forwarding_peers WHERE seen_at > ${IN_MS('$1')} ORDER BY holder`,
        [-leaseMs],
      );
      return res.rows;
    },

    async claim(holder, leaseMs, want, release) {
      const c = await pool.connect();
      try {
        if (release.length) {
          await c.query(
            `UPDATE delivery_leases SET holder = NULL, expires_at = '-infinity'
             WHERE holder = $1 AND (destination, shard) IN (SELECT * FROM unnest($2::text[], $3::smallint[]))`,
            [holder, release.map((r) => r.destination), release.map((r) => r.shard)],
          );
        }
        const names = Object.keys(want);
        if (names.length) {
          await c.query(
            `INSERT INTO delivery_leases (destination, shard, holder, expires_at)
             SELECT d, s, NULL, '-infinity' FROM unnest($1::text[]) AS d, generate_series(0, $2::int - 1) AS s
             ON CONFLICT DO NOTHING`,
            [names, DELIVERY_SHARDS],
          );
        }
        await c.query(`UPDATE delivery_leases SET expires_at = ${IN_MS('$2')} WHERE holder = $1`, [holder, leaseMs]);
        for (const [destination, n] of Object.entries(want)) {
          if (n <= 0) continue;
          // SKIP LOCKED: shards another receiver is taking right now are left to it, not waited for. The
          // subquery's condition is checked again on the row as locked, so a lease renewed meanwhile is kept.
          await c.query(
            `UPDATE delivery_leases SET holder = $1, expires_at = ${IN_MS('$2')}
             WHERE (destination, shard) IN (
               SELECT destination, shard FROM delivery_leases
               WHERE destination = $3 AND (holder IS NULL OR expires_at < clock_timestamp())
               ORDER BY random() LIMIT $4 FOR UPDATE SKIP LOCKED)`,
            [holder, leaseMs, destination, n],
          );
        }
        const res = await c.query<{ destination: string; shard: number }>(
          'SELECT destination, shard FROM delivery_leases WHERE holder = $1 AND expires_at > clock_timestamp() ORDER BY destination, shard',
          [holder],
        );
        const held: Record<string, number[]> = {};
        for (const r of res.rows) (held[r.destination] ??= []).push(r.shard);
        return held;
      } finally {
        c.release();
      }
    },

    async leave(holder) {
      await pool.query(`UPDATE delivery_leases SET holder = NULL, expires_at = '-infinity' WHERE holder = $1`, [holder]);
      await pool.query('DELETE FROM forwarding_peers WHERE holder = $1', [holder]);
    },
  };
}
