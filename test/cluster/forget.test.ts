/**
 * Forgetting a phone on one receiver drops it from every receiver on the database: state, API and inventory,
 * also on a receiver whose listening connection was down when it happened. While PostgreSQL is away a
 * forget is refused with a one-line 503 and nothing is forgotten.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbUrl, ingest, startProxy, startReceivers, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

const status = async (url: string) => (await fetch(url)).status;
/** The phones a receiver lists (from its memory: answers while PostgreSQL is away too). */
const listed = async (base: string) => ((await (await fetch(`${base}/api/v1/phones`)).json()) as { phones: { mac: string }[] }).phones.map((p) => p.mac);
const inventoryMacs = async (base: string) =>
  ((await (await fetch(`${base}/api/v1/inventory`)).json()) as { inventory: { mac: string }[] }).inventory.map((e) => e.mac);

async function forget(base: string, mac: string): Promise<{ status: number; body: { error?: string } }> {
  const res = await fetch(`${base}/api/v1/phones/${mac}`, { method: 'DELETE' });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

test('a phone forgotten on one receiver is gone from the other one too, inventory included, and comes back fresh with its next event', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const MAC = '001565f00001';
  const OTHER = '001565f00002';
  const first = await startReceivers(1, dbUrl(schema));
  const a = first.servers[0];
  let second: Awaited<ReturnType<typeof startReceivers>> | undefined;
  try {
    assert.equal(await ingest(a.port, `/actionurl/dnd_on?mac=${MAC}`), 200);
    assert.equal(await ingest(a.port, `/actionurl/dnd_on?mac=${OTHER}`), 200);
    const patched = await fetch(`${a.url}/api/v1/phones/${MAC}`, { method: 'PATCH', body: JSON.stringify({ name: 'Front desk' }) });
    assert.equal(patched.status, 200);
    // B starts after the inventory edit (receivers load the inventory at start).
    second = await startReceivers(1, dbUrl(schema));
    const b = second.servers[0];
    assert.equal(await status(`${b.url}/api/v1/phones/${MAC}`), 200);
    assert.deepEqual(await inventoryMacs(b.url), [MAC]);

    assert.equal((await forget(a.url, MAC)).status, 200);
    await waitUntil('B drops the phone', async () => (await status(`${b.url}/api/v1/phones/${MAC}`)) === 404, 10_000);
    assert.deepEqual(await inventoryMacs(b.url), []);
    assert.deepEqual(await listed(b.url), [OTHER], 'the other phone stays');

    // Its next event (to B) starts a new state: DND off, not the forgotten one's DND on.
    assert.equal(await ingest(b.port, `/actionurl/registered?mac=${MAC}`), 200);
    for (const r of [a, b]) {
      await waitUntil(`${r.url} knows the phone again`, async () => (await status(`${r.url}/api/v1/phones/${MAC}`)) === 200, 10_000);
      const phone = (await (await fetch(`${r.url}/api/v1/phones/${MAC}`)).json()) as { dnd: boolean };
      assert.equal(phone.dnd, false);
    }
  } finally {
    await second?.close();
    await first.close();
  }
});

test('a receiver that was not listening when a phone was forgotten drops it once it reconnects', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const MAC = '001565f00003';
  const proxy = await startProxy();
  // A talks to PostgreSQL directly, B through the proxy (its link is cut while A forgets the phone).
  const first = await startReceivers(1, dbUrl(schema));
  const second = await startReceivers(1, dbUrl(schema, proxy.port));
  const [a, b] = [first.servers[0], second.servers[0]];
  try {
    assert.equal(await ingest(a.port, `/actionurl/dnd_on?mac=${MAC}`), 200);
    await waitUntil('B knows the phone', async () => (await status(`${b.url}/api/v1/phones/${MAC}`)) === 200, 10_000);
    proxy.cut();
    assert.equal((await forget(a.url, MAC)).status, 200);
    // B's link is cut, so nothing can tell it of the forget: the pause only gives a wrong path time to show.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await listed(b.url), [MAC], 'B could not have heard of it yet');
    // Reads that need the database say so in one line meanwhile.
    const read = await fetch(`${b.url}/api/v1/phones/${MAC}`);
    assert.equal(read.status, 503);
    assert.match(((await read.json()) as { error: string }).error, /cannot be reached/);
    proxy.restore();
    await waitUntil('B drops the phone after reconnecting', async () => (await listed(b.url)).length === 0, 15_000);
  } finally {
    await second.close();
    await first.close();
    await proxy.close();
  }
});

test('forgetting a phone while PostgreSQL is away is refused with one line, and the phone stays everywhere', { timeout: 60_000 }, async () => {
  const schema = database.schema();
  const MAC = '001565f00004';
  const proxy = await startProxy();
  const cluster = await startReceivers(1, dbUrl(schema, proxy.port));
  const a = cluster.servers[0];
  try {
    assert.equal(await ingest(a.port, `/actionurl/dnd_on?mac=${MAC}`), 200);
    proxy.cut();
    const refused = await forget(a.url, MAC);
    assert.equal(refused.status, 503);
    assert.match(refused.body.error ?? '', /try again/);
    assert.ok(!refused.body.error!.includes('\n'));
    assert.deepEqual(await listed(a.url), [MAC], 'not dropped from memory either');
    // Events are still taken (journalled), and a forget waits until they are in PostgreSQL, not overtaking them.
    assert.equal(await ingest(a.port, `/actionurl/dnd_off?mac=${MAC}`), 200);
    assert.match((await forget(a.url, MAC)).body.error ?? '', /catching up|cannot be reached/);
    proxy.restore();
    await waitUntil('the journal is moved in', () => a.ctx.store.shared!.journalled === 0);
    assert.equal((await forget(a.url, MAC)).status, 200);
    const left = await database.admin.query(`SELECT 1 FROM ${schema}.phones WHERE mac = $1`, [MAC]);
    assert.equal(left.rowCount, 0);
    const up = await database.admin.query<{ up: number }>(`SELECT up_to_event_id::int AS up FROM ${schema}.forgotten_phones WHERE mac = $1`, [MAC]);
    const last = await database.admin.query<{ id: number }>(`SELECT max(id)::int AS id FROM ${schema}.events WHERE mac = $1`, [MAC]);
    assert.equal(up.rows[0].up, last.rows[0].id, 'the forget covers the journalled event too');
  } finally {
    await cluster.close();
    await proxy.close();
  }
});
