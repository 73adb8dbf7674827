/**
 * Forwarding with several receivers on one real PostgreSQL: each webhook or MQTT delivery is made once across
 * the receivers in normal running, each phone's events reach the destination in commit order, receivers
 * share the work, a receiver killed mid-run (SIGKILL) is taken over once its leases run out and nothing is
 * lost, and receivers started with different forwarding settings are told about it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELIVERY_SHARDS, webhookId } from '../../src/store/delivery-rows.ts';
import type { RunningServer } from '../../src/start.ts';
import { spawnServe, type ServeChild } from '../server/helpers/child.ts';
import { openBrowser } from '../web/support.ts';
import { startHookServer, type HookServer } from '../forwarding/helpers/hook-server.ts';
import { SHARED_BROKER, watch } from '../forwarding/helpers/mqtt-watch.ts';
import { dbUrl, getJson, ingest, startReceivers, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

/**
 * The webhook-ids the database says were to be sent to a destination, each with its type and the event's
 * sequence (extra.seq): the incidents, and the receivers' conclusions (phone.online for each new phone).
 */
async function expectedIds(schema: string, destination: string): Promise<Map<string, string>> {
  const res = await database.admin.query<{ id: number; created_at: number; seq: string }>(
    `SELECT d.id::int AS id, d.created_at::float8 AS created_at, d.type || ' ' || coalesce(e.extra->>'seq', '') AS seq
     FROM ${schema}.deliveries d LEFT JOIN ${schema}.events e ON e.id = d.event_id WHERE d.destination = $1`,
    [destination],
  );
  return new Map(res.rows.map((r) => [webhookId({ id: r.id, createdAt: r.created_at }), r.seq]));
}

/** Deliveries still to make (pending or failed). */
async function undelivered(schema: string): Promise<number> {
  const res = await database.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.deliveries WHERE state IN ('pending', 'failed')`);
  return res.rows[0].n;
}

async function states(schema: string): Promise<Record<string, number>> {
  const res = await database.admin.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ${schema}.deliveries GROUP BY state`);
  return Object.fromEntries(res.rows.map((r) => [r.state, r.n]));
}

/** Per phone, the sequence numbers in the order they first arrived (a repeat across a crash counts once). */
function firstArrivals(hook: HookServer, accepted: (i: number) => boolean): Map<string, number[]> {
  const seen = new Set<string>();
  const byPhone = new Map<string, number[]>();
  hook.received.forEach((r, i) => {
    const id = String(r.headers['webhook-id']);
    if (!accepted(i) || seen.has(id)) return;
    seen.add(id);
    if (r.json.data.event === undefined) return; // a conclusion
    const seq = String((r.json.data.event as { extra: { seq: string } }).extra.seq);
    const [phone, n] = seq.split('-');
    byPhone.set(phone, [...(byPhone.get(phone) ?? []), Number(n)]);
  });
  return byPhone;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] < x);

/** Until every receiver holds some of the destination's shards and together they hold them all. */
async function shardsShared(servers: RunningServer[], destination: string): Promise<void> {
  await waitUntil(`${destination}'s shards are shared among the ${servers.length}`, async () => {
    const held = await Promise.all(servers.map(async (s) => (await getJson(`${s.url}/api/v1/destinations`)).cluster.shards[destination] as number));
    return held.every((n) => n > 0) && held.reduce((a, b) => a + b, 0) === DELIVERY_SHARDS;
  });
}

/**
 * `phones` phones (MACs `macPrefix` + two digits) send `perPhone` events each, all at once; each phone's go
 * round-robin to the receivers, one after another, so its commit order is its sequence (extra.seq = phone-i).
 */
async function sendInTurns(servers: RunningServer[], macPrefix: string, phones: number, perPhone: number, incident: (i: number) => string): Promise<void> {
  await Promise.all(
    Array.from({ length: phones }, async (_, p) => {
      const mac = `${macPrefix}${String(p).padStart(2, '0')}`;
      for (let i = 0; i < perPhone; i++) {
        assert.equal(await ingest(servers[(p + i) % servers.length].port, `/actionurl/${incident(i)}?mac=${mac}&seq=${p}-${i}`), 200);
      }
    }),
  );
}

test('three receivers with the same webhook: every delivery arrives once, each phone in order, the work shared', { timeout: 180_000 }, async () => {
  const schema = database.schema();
  // Every fifth request first gets a 503 (retried 100 ms later), so order is kept across retries too.
  const statuses: number[] = [];
  const hook = await startHookServer((_r, i) => {
    const status = i % 5 === 4 ? 503 : 200;
    statuses[i] = status;
    return { status, delayMs: i % 3 === 0 ? 15 : 0 };
  });
  const cluster = await startReceivers(3, dbUrl(schema), { webhook: [hook.url], forwardLeaseMs: 1500, forwarding: { schedule: Array(20).fill(100) } });
  try {
    const { servers } = cluster;
    // The first to start takes every shard, then hands some over.
    await shardsShared(servers, 'webhook1');
    const phones = 10;
    const perPhone = 20;
    await sendInTurns(servers, '0015652200', phones, perPhone, (i) => (i % 2 ? 'dnd_off' : 'dnd_on'));
    const expected = await expectedIds(schema, 'webhook1');
    assert.equal([...expected.values()].filter((v) => v.startsWith('phone.dnd')).length, phones * perPhone, 'one delivery row per event');
    assert.equal([...expected.values()].filter((v) => v.startsWith('phone.online')).length, phones, 'and one phone.online per phone');
    await waitUntil('every delivery is made', async () => (await undelivered(schema)) === 0, 60_000);
    assert.deepEqual(await states(schema), { delivered: expected.size });
    // Outcomes are stored after the answer; give a late duplicate, if there were one, time to show.
    await new Promise((r) => setTimeout(r, 1000));
    const accepted = (i: number) => statuses[i] === 200;
    const counts = new Map<string, number>();
    hook.received.forEach((r, i) => {
      if (accepted(i)) counts.set(String(r.headers['webhook-id']), (counts.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    });
    for (const id of expected.keys()) assert.equal(counts.get(id), 1, `delivery ${id} (event ${expected.get(id)}) accepted exactly once`);
    assert.equal(counts.size, expected.size, 'nothing else was sent');
    for (const [phone, seqs] of firstArrivals(hook, accepted)) {
      assert.equal(seqs.length, perPhone);
      assert.ok(increasing(seqs), `phone ${phone} in commit order: ${seqs.join(',')}`);
    }
    const failedFirst = statuses.filter((s) => s === 503).length;
    assert.ok(failedFirst > 10, 'retries happened');
  } finally {
    await cluster.close();
    await hook.close();
  }
});

test('a receiver killed with SIGKILL mid-run: the other takes its deliveries over after the lease and nothing is lost', { timeout: 240_000 }, async (t) => {
  const schema = database.schema();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-kill-'));
  // A slow destination (40 ms per answer) keeps deliveries in flight when the kill comes.
  const hook = await startHookServer(() => ({ status: 200, delayMs: 40 }));
  const children: ServeChild[] = [];
  try {
    const db = dbUrl(schema);
    const args = (name: string) => ['--db', db, '--journal', join(dir, `${name}.sqlite`), '--webhook', hook.url, '--forward-lease', '2'];
    children.push(await spawnServe(args('a')));
    children.push(await spawnServe(args('b')));
    const [victim, survivor] = children;
    await waitUntil('both receivers hold shards', async () => {
      const held = await Promise.all(children.map(async (c) => (await getJson(`${c.url}/api/v1/destinations`)).cluster.shards.webhook1 as number));
      return held.every((n) => n > 0);
    });
    let killedAt = 0;
    const acked = new Set<string>();
    const loops = Array.from({ length: 8 }, async (_, p) => {
      const mac = `0015653300${String(p).padStart(2, '0')}`;
      for (let i = 0; i < 40; i++) {
        const to = killedAt === 0 && i % 2 === 0 ? victim : survivor;
        const seq = `${p}-${i}`;
        if ((await ingest(to.port, `/actionurl/${i % 2 ? 'dnd_off' : 'dnd_on'}?mac=${mac}&seq=${seq}`)) === 200) acked.add(seq);
      }
    });
    const killer = (async () => {
      await waitUntil('deliveries are under way', () => hook.received.length >= 60, 60_000);
      killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
    })();
    await Promise.all([...loops, killer]);
    assert.ok(killedAt > 0);
    const expected = await expectedIds(schema, 'webhook1');
    const rows = new Set([...expected.values()].map((v) => v.split(' ')[1]));
    for (const seq of acked) assert.ok(rows.has(seq), `acknowledged event ${seq} has its delivery row`);
    await waitUntil('every delivery is made by the survivor', async () => (await undelivered(schema)) === 0, 90_000);
    assert.deepEqual(await states(schema), { delivered: expected.size });
    // Every delivery is made; give a late duplicate, if there were one, time to show (an absence cannot be waited for).
    await new Promise((r) => setTimeout(r, 1000));
    const counts = new Map<string, number>();
    const firstAt = new Map<string, number>();
    for (const r of hook.received) {
      const id = String(r.headers['webhook-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      if (!firstAt.has(id)) firstAt.set(id, r.at);
    }
    for (const id of expected.keys()) assert.ok((counts.get(id) ?? 0) >= 1, `delivery ${id} (event ${expected.get(id)}) arrived`);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    // At least once: only what the killed receiver had attempted before it died may come again.
    for (const id of repeated) assert.ok(firstAt.get(id)! <= killedAt + 200, `delivery ${id} repeated though first sent after the kill`);
    for (const [phone, seqs] of firstArrivals(hook, () => true)) assert.ok(increasing(seqs), `phone ${phone} in commit order: ${seqs.join(',')}`);
    const afterKill = hook.received.filter((r) => r.at > killedAt).map((r) => r.at);
    t.diagnostic(`${expected.size} deliveries, ${repeated.length} sent twice across the kill; last delivery ${Math.max(...afterKill) - killedAt} ms after the kill (lease 2 s)`);
  } finally {
    for (const c of children) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('receivers with different forwarding settings say so on /api/v1/destinations', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const hook = await startHookServer();
  const db = dbUrl(schema);
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-mismatch-'));
  const { startServer } = await import('../../src/start.ts');
  const servers = await Promise.all([
    startServer({ db, journal: join(dir, 'a.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent', webhook: [hook.url], forwardLeaseMs: 1500 }),
    startServer({ db, journal: join(dir, 'b.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent', forwardLeaseMs: 1500 }),
  ]);
  try {
    const [withHook, without] = servers;
    // Leases are claimed in the background (at start and at each renewal): wait for the claims too.
    await waitUntil('both see the difference, and the shards are claimed', async () => {
      const a = (await getJson(`${withHook.url}/api/v1/destinations`)).cluster;
      const b = (await getJson(`${without.url}/api/v1/destinations`)).cluster;
      return a.problems.length > 0 && b.problems.length > 0 && a.shards.webhook1 === DELIVERY_SHARDS;
    });
    const a = (await getJson(`${withHook.url}/api/v1/destinations`)).cluster;
    const b = (await getJson(`${without.url}/api/v1/destinations`)).cluster;
    assert.equal(a.receivers, 2);
    assert.deepEqual(a.problems, [`receiver ${b.holder} does not forward to webhook1: events it takes get no deliveries there`]);
    assert.deepEqual(b.problems, [`receiver ${a.holder} forwards to webhook1, which this receiver does not: events this receiver takes get no deliveries there`]);
    assert.deepEqual(b.shards, {}, 'the receiver without destinations sends nothing');
    // The one with the webhook sends every delivery (none to share with).
    assert.equal(a.shards.webhook1, DELIVERY_SHARDS);
    // The dashboard's Forwarding page says so too, as text.
    const browser = await openBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${withHook.url}/#/forwarding`);
      const shown = page.locator('.cluster-problems li');
      await shown.first().waitFor();
      assert.deepEqual(await shown.allInnerTexts(), a.problems);
      assert.deepEqual(browser.problems, []);
    } finally {
      await browser.close();
    }
    // Once the other stops, the difference is gone (it left the database cleanly).
    await without.close();
    await waitUntil('the difference is gone', async () => (await getJson(`${withHook.url}/api/v1/destinations`)).cluster.problems.length === 0);
  } finally {
    await Promise.all(servers.map((s) => s.close().catch(() => {})));
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two receivers publishing to one MQTT broker: each event is published once, each phone in order', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const prefix = `au${Date.now().toString(36)}`;
  const watcher = await watch(SHARED_BROKER, [`${prefix}/+/event`]);
  const cluster = await startReceivers(2, dbUrl(schema), { mqtt: { url: SHARED_BROKER, prefix, discoveryPrefix: null }, forwardLeaseMs: 1500 });
  try {
    const { servers } = cluster;
    await shardsShared(servers, 'mqtt');
    const phones = 6;
    const perPhone = 15;
    await sendInTurns(servers, '0015654400', phones, perPhone, () => 'dnd_on');
    await waitUntil('every delivery is made', async () => (await undelivered(schema)) === 0, 60_000);
    assert.deepEqual(Object.keys(await states(schema)), ['delivered']);
    await waitUntil('every event was published', () => watcher.messages.length >= phones * perPhone + phones);
    // Give a message published twice, if there were one, time to arrive (an absence cannot be waited for).
    await new Promise((r) => setTimeout(r, 1000));
    const payloads = watcher.messages.map((m) => JSON.parse(m.text) as { event_type: string; id?: number; mac: string; extra?: { seq: string } });
    const incidents = payloads.filter((e) => e.event_type === 'dnd_on');
    const online = payloads.filter((e) => e.event_type === 'phone.online');
    assert.equal(payloads.length, incidents.length + online.length, `only the events: ${payloads.map((e) => e.event_type).join(',')}`);
    assert.equal(incidents.length, phones * perPhone, 'no event published twice');
    assert.equal(new Set(incidents.map((e) => e.id)).size, phones * perPhone);
    assert.equal(online.length, phones, 'one phone.online per phone');
    assert.equal(new Set(online.map((e) => e.mac)).size, phones);
    const byPhone = new Map<string, number[]>();
    for (const e of incidents) byPhone.set(e.mac, [...(byPhone.get(e.mac) ?? []), Number(e.extra!.seq.split('-')[1])]);
    for (const [mac, seqs] of byPhone) assert.ok(increasing(seqs), `phone ${mac} in commit order: ${seqs.join(',')}`);
  } finally {
    await cluster.close();
    await watcher.close();
  }
});
