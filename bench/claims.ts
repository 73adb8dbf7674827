/**
 * What sharing deliveries among receivers on one PostgreSQL costs (docs/scale-out.md, "Once: deliveries"),
 * side by side in one run on one database:
 *   - reading a destination's due deliveries and storing their outcomes, page by page, as a worker does:
 *     without a shard filter (one receiver, as before leases existed) and with one (the 32 shards of one
 *     receiver holding them all; 16 and 16 for two receivers), alternating rounds over the same rows;
 *   - one lease round (heartbeat and claim), which a receiver makes every third of the lease whatever the
 *     load, and what it adds per delivery at a given delivery rate.
 * PostgreSQL from ACTIONURL_BENCH_PG (default postgres://postgres@127.0.0.1:5432/test), in a schema that is
 * dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres.ts';
import { DELIVERY_SHARDS } from '../src/store/delivery-rows.ts';
import type { NewEvent } from '../src/store/types.ts';

const DELIVERIES = 20_000;
const PHONES = 500;
const PAGE = 500;
const ROUNDS = 3;
const BASE = process.env.ACTIONURL_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `au_bench_${randomBytes(5).toString('hex')}`;
const u = new URL(BASE);
u.searchParams.set('schema', schema);
const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
const store = await PostgresStore.connect(u.toString());
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

try {
  for (let i = 0; i < DELIVERIES; i += 500) {
    const events: NewEvent[] = Array.from({ length: 500 }, (_, j) => {
      const mac = `00156500${String((i + j) % PHONES).padStart(4, '0')}`;
      return { receivedAt: Date.now(), mac, incident: 'dnd_on', vars: { mac }, extra: {}, rawTarget: Buffer.from('/x'), sourceIp: '10.0.0.1' };
    });
    await store.write({ events, rejected: [], routes: events.map(() => ['hook']) });
  }

  /** Reads every due delivery page by page and stores each page as delivered; ms per delivery. */
  async function drain(shardSets: (number[] | undefined)[]): Promise<number> {
    await admin.query(`UPDATE ${schema}.deliveries SET state = 'pending', delivered_at = NULL`);
    await admin.query(`VACUUM ANALYZE ${schema}.deliveries`);
    const started = performance.now();
    let n = 0;
    for (const shards of shardSets) {
      let cursor = 0;
      for (;;) {
        const rows = await store.deliveriesDue('hook', cursor, PAGE, shards);
        if (rows.length === 0) break;
        cursor = rows[rows.length - 1].id;
        const now = Date.now();
        await store.updateDeliveries(rows.map((r) => ({ id: r.id, state: 'delivered', attempts: 1, nextAt: now, lastError: null, lastStatus: 200, lastAttemptAt: now, deliveredAt: now, body: null })));
        n += rows.length;
      }
    }
    if (n !== DELIVERIES) throw new Error(`drained ${n} of ${DELIVERIES}`);
    return (performance.now() - started) / n;
  }

  const all = Array.from({ length: DELIVERY_SHARDS }, (_, i) => i);
  const kinds: [string, (number[] | undefined)[]][] = [
    ['no shard filter (before leases)', [undefined]],
    ['one receiver, 32 shards', [all]],
    ['two receivers, 16 + 16 shards', [all.slice(0, 16), all.slice(16)]],
  ];
  const results = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, sets] of kinds) results.get(k)!.push(await drain(sets));
  const base = Math.min(...results.get(kinds[0][0])!);
  console.log(`${DELIVERIES} deliveries of ${PHONES} phones, pages of ${PAGE}: read and store outcomes, ms per delivery (rounds alternate)`);
  for (const [k, ms] of results) {
    const best = Math.min(...ms);
    console.log(`  ${k.padEnd(34)} ${ms.map((x) => fmt(x, 3)).join(' / ')}   best ${fmt(best, 3)} (${fmt(best / base, 2)}×)`);
  }

  const leases = store.shared.leases;
  const peer = { holder: 'bench', destinations: [{ name: 'hook', fingerprint: 'x', summary: 'webhook' }] };
  await leases.claim('bench', 15_000, { hook: DELIVERY_SHARDS }, []);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await leases.heartbeat(peer, 15_000);
    await leases.claim('bench', 15_000, { hook: 0 }, []);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p50 = times[25];
  console.log(`lease round (heartbeat + renew 32 shards): p50 ${fmt(p50, 2)} ms, p99 ${fmt(times[49], 2)} ms; every 5 s (15 s lease)`);
  console.log(`  at 100 deliveries/s that is ${fmt((p50 / 500) * 1000, 1)} µs per delivery; at 1,000/s ${fmt((p50 / 5000) * 1000, 2)} µs`);
} finally {
  await store.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}
