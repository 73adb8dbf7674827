/**
 * Webhooks against real local HTTP servers: signed deliveries checked by an independent verifier, retries
 * with the same webhook-id, Retry-After, 410, redirects, timeouts, per-phone order, and a dead destination
 * that must not hold up another one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import pg from 'pg';
import { join } from 'node:path';
import { startTestReceiver, type TestReceiver } from '../server/helpers/receiver.ts';
import { makeSelfSignedCert } from '../phone/tls-fixture.ts';
import { newSecret, startHookServer, verifyGithubSignature, verifyStandardWebhook, type HookServer } from './helpers/hook-server.ts';
import { until } from './helpers/until.ts';
import { describeEachStore } from '../stores.ts';

const FAST = [0, 30, 30, 30];

async function withReceiver(
  hooks: HookServer[],
  options: Parameters<typeof startTestReceiver>[0],
  body: (r: TestReceiver) => Promise<void>,
): Promise<void> {
  const r = await startTestReceiver({ forwarding: { schedule: FAST, recordEveryMs: 10 }, ...options });
  try {
    await body(r);
  } finally {
    await r.cleanup();
    for (const h of hooks) await h.close();
  }
}

const MAC_A = '001565aaaa01';
const MAC_B = '001565bbbb02';

describeEachStore('webhooks', { timeout: 60_000 }, (store) => {
  test('every event is POSTed as JSON, signed the Standard Webhooks way and GitHub\'s', { timeout: 20_000 }, async () => {
    const hook = await startHookServer();
    const secret = newSecret();
    await withReceiver([hook], { storeKind: store, webhook: [hook.url], webhookSecret: [secret] }, async (r) => {
      const res = await r.ingest(`/actionurl/incoming_call?mac=${MAC_A}&call_id=7&remote=sip:2001@pbx&display_remote=Jöhn <b>Doe</b>`);
      assert.equal(res.status, 200);
      const [got] = await hook.waitFor(1);
      assert.equal(got.headers['content-type'], 'application/json');
      assert.ok(verifyStandardWebhook(secret, got.headers, got.body), 'webhook-signature verifies');
      assert.ok(verifyGithubSignature(secret, got.headers, got.body), 'x-hub-signature-256 verifies');
      assert.ok(!verifyStandardWebhook(newSecret(), got.headers, got.body), 'another secret does not verify');
      assert.match(String(got.headers['webhook-id']), /^msg_[0-9a-z]+_[0-9a-z]+$/);
      const ts = Number(got.headers['webhook-timestamp']);
      assert.ok(Math.abs(ts - Date.now() / 1000) < 60, 'timestamp is now, in seconds');
      assert.equal(got.json.type, 'phone.incoming_call');
      const data = got.json.data as { event: { mac: string; vars: Record<string, string> }; phone: { presence: string; calls: { display_remote: string }[] } };
      assert.equal(data.event.mac, MAC_A);
      assert.equal(data.event.vars.display_remote, 'Jöhn <b>Doe</b>');
      assert.equal(data.phone.presence, 'ringing', 'the phone as it was right after the event');
      assert.equal(data.phone.calls[0].display_remote, 'Jöhn <b>Doe</b>');
      const list = await until('a delivered row', async () => {
        const b = (await r.api('/api/v1/deliveries?state=delivered')).body as { deliveries: { type: string; webhook_id: string }[] };
        return b.deliveries.find((d) => d.type === 'phone.incoming_call');
      });
      assert.equal(list.webhook_id, got.headers['webhook-id']);
      // The delivered row keeps no copy of the body (it is the event and the phone's state), yet the API
      // shows exactly what was sent.
      const row = (await r.api(`/api/v1/deliveries?state=delivered`)).body as { deliveries: { id: number; type: string }[] };
      const id = row.deliveries.find((d) => d.type === 'phone.incoming_call')!.id;
      assert.equal((await r.server.ctx.store.delivery(id))!.body, null);
      const shown = (await r.api(`/api/v1/deliveries/${id}`)).body as { body: unknown };
      assert.deepEqual(shown.body, got.json);
    });
  });

  test('a failing destination is retried with the same webhook-id until it recovers', { timeout: 20_000 }, async () => {
    const hook = await startHookServer((_r, i) => ({ status: i < 2 ? 500 : 200 }));
    await withReceiver([hook], { storeKind: store, webhook: [hook.url] }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      const got = (await hook.waitFor(3)).filter((x) => x.json.type === 'phone.dnd_on');
      assert.equal(got.length, 3);
      assert.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, 1, 'one id across retries');
      assert.equal(new Set(got.map((g) => g.body)).size, 1, 'the same body on every attempt');
      const row = await until('delivered', async () => {
        const b = (await r.api('/api/v1/deliveries?state=delivered')).body as { deliveries: { type: string; attempts: number }[] };
        return b.deliveries.find((d) => d.type === 'phone.dnd_on');
      });
      assert.equal(row.attempts, 3);
      const metrics = (await r.api('/metrics')).body as string;
      assert.match(metrics, /^actionurl_forward_deliveries_total\{destination="webhook1",result="failed"\} 2$/m);
      assert.match(metrics, /^actionurl_forward_deliveries_total\{destination="webhook1",result="delivered"\} [1-9]/m);
      assert.match(metrics, /^actionurl_forward_delivery_latency_seconds_count [1-9]/m);
    });
  });

  test('429 with Retry-After waits as long as the destination asked', { timeout: 20_000 }, async () => {
    const hook = await startHookServer((_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 }));
    await withReceiver([hook], { storeKind: store, webhook: [hook.url] }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      const [first, second] = await hook.waitFor(2);
      // The schedule alone would retry after 30 ms.
      assert.ok(second.at - first.at >= 900, `retried after ${second.at - first.at} ms`);
      assert.equal(second.headers['webhook-id'], first.headers['webhook-id']);
    });
  });

  test('410 Gone switches the destination off; its deliveries are dead, later events are not queued for it', { timeout: 20_000 }, async () => {
    const hook = await startHookServer(() => ({ status: 410 }));
    await withReceiver([hook], { storeKind: store, webhook: [hook.url] }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      await hook.waitFor(1);
      const dest = await until('switched off', async () => {
        const b = (await r.api('/api/v1/destinations')).body as { destinations: { enabled: boolean; disabled_reason: string }[] };
        return b.destinations[0].enabled ? undefined : b.destinations[0];
      });
      assert.match(dest.disabled_reason, /410/);
      await r.ingest(`/actionurl/dnd_off?mac=${MAC_A}`);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(hook.received.length, 1, 'nothing sent after 410');
      const dead = (await r.api('/api/v1/deliveries?state=dead')).body as { deliveries: { type: string; last_error: string }[] };
      assert.ok(dead.deliveries.some((d) => d.type === 'phone.dnd_on' && /410/.test(d.last_error)));
      const all = (await r.api('/api/v1/deliveries')).body as { deliveries: { type: string }[] };
      assert.ok(!all.deliveries.some((d) => d.type === 'phone.dnd_off'), 'no row for the switched-off destination');
    });
  });

  test('a redirect is a failure and is never followed; after the last retry the delivery is dead, and can be re-sent', { timeout: 20_000 }, async () => {
    const target = await startHookServer();
    const hook = await startHookServer(() => ({ status: 302, headers: { Location: target.url } }));
    await withReceiver([hook, target], { storeKind: store, webhook: [hook.url] }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      const dead = await until('dead', async () => {
        const b = (await r.api('/api/v1/deliveries?state=dead')).body as { deliveries: { id: number; type: string; last_error: string; attempts: number; webhook_id: string }[] };
        return b.deliveries.find((d) => d.type === 'phone.dnd_on');
      });
      assert.match(dead.last_error, /302/);
      assert.equal(dead.attempts, FAST.length, 'one attempt per step of the schedule');
      assert.equal(target.received.length, 0, 'the redirect target got nothing');
      // The destination is fixed; re-send the dead delivery by hand.
      hook.behave = () => ({ status: 204 });
      const before = hook.received.length;
      const retry = await r.api(`/api/v1/deliveries/${dead.id}/retry`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(retry.status, 202);
      const again = await hook.waitForMatch((x) => x.json.type === 'phone.dnd_on', before);
      assert.equal(again.headers['webhook-id'], dead.webhook_id, 'the same id when re-sent');
      const missing = await r.api('/api/v1/deliveries/999999/retry', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(missing.status, 404);
      const bad = await r.api('/api/v1/deliveries/abc/retry', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(bad.status, 400);
    });
  });

  test('a destination that does not answer times out and is retried; a slow one still delivers', { timeout: 30_000 }, async () => {
    const hook = await startHookServer((_r, i) => (i === 0 ? { hang: true } : { status: 200, delayMs: 300 }));
    const file = join(await import('node:os').then((os) => os.tmpdir()), `forward-${process.pid}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ destinations: [{ name: 'slow', url: hook.url, timeout_seconds: 1 }] }));
    await withReceiver([hook], { storeKind: store, forward: file }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      const [first, second] = await hook.waitFor(2);
      assert.equal(second.headers['webhook-id'], first.headers['webhook-id']);
      const row = await until('delivered', async () => {
        const b = (await r.api('/api/v1/deliveries?destination=slow&state=delivered')).body as { deliveries: { attempts: number }[] };
        return b.deliveries[0];
      });
      assert.equal(row.attempts, 2);
      const failedLog = (await r.api('/api/v1/deliveries?destination=slow')).body as { deliveries: { state: string }[] };
      assert.ok(failedLog.deliveries.length >= 1);
    });
  });

  test('per phone, events arrive in commit order even while retried; other phones do not wait', { timeout: 20_000 }, async () => {
    let failA = 3;
    const hook = await startHookServer((r) => {
      const ev = (r.json.data as { event?: { mac: string; incident: string } }).event;
      if (ev?.mac === MAC_A && ev.incident === 'dnd_on' && failA > 0) {
        failA--;
        return { status: 503 };
      }
      return { status: 200 };
    });
    await withReceiver([hook], { storeKind: store, webhook: [hook.url], forwarding: { schedule: [0, 200, 200, 200, 200], recordEveryMs: 10 } }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      await r.ingest(`/actionurl/dnd_off?mac=${MAC_A}`);
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_B}`);
      await until('all delivered', () => {
        const ok = hook.received.filter((x) => x.json.type.startsWith('phone.dnd'));
        return ok.length >= 6 ? true : undefined;
      });
      const order = hook.received
        .map((x) => x.json.data as { event?: { mac: string; incident: string } })
        .filter((d) => d.event)
        .map((d) => `${d.event!.mac}:${d.event!.incident}`);
      const firstOffA = order.indexOf(`${MAC_A}:dnd_off`);
      const lastOnA = order.lastIndexOf(`${MAC_A}:dnd_on`);
      assert.ok(firstOffA > lastOnA, `A's dnd_off only after A's dnd_on got through: ${order.join(' ')}`);
      const bAt = order.indexOf(`${MAC_B}:dnd_on`);
      assert.ok(bAt < lastOnA, `B went ahead while A was retried: ${order.join(' ')}`);
    });
  });

  test('through PostgreSQL: outbox rows with the event, delivered and logged', { timeout: 30_000 }, async () => {
    const pgBase = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `au_fwd_${randomBytes(5).toString('hex')}`;
    const hook = await startHookServer((_r, i) => ({ status: i === 0 ? 500 : 200 }));
    try {
      await withReceiver([hook], { db: `${pgBase}?schema=${schema}`, webhook: [hook.url] }, async (r) => {
        await r.ingest(`/actionurl/incoming_call?mac=${MAC_A}&call_id=1`);
        const got = await hook.waitForMatch((x) => x.json.type === 'phone.incoming_call', 1);
        assert.equal(got.headers['webhook-id'], hook.received[0].headers['webhook-id']);
        const row = await until('delivered', async () => {
          const b = (await r.api('/api/v1/deliveries?state=delivered')).body as { deliveries: { type: string; attempts: number; last_status: number }[] };
          return b.deliveries.find((d) => d.type === 'phone.incoming_call');
        });
        assert.equal(row.attempts, 2);
        assert.equal(row.last_status, 200);
      });
    } finally {
      const admin = new pg.Client({ connectionString: pgBase });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });

  test('credentials in the URL are sent as HTTP Basic; a huge answer body does not stop the next delivery', { timeout: 20_000 }, async () => {
    const hook = await startHookServer((_r, i) => ({ status: 200, body: i === 0 ? 'x'.repeat(300_000) : 'ok' }));
    const url = hook.url.replace('http://', 'http://bridge:p%40ss%3Aword@');
    await withReceiver([hook], { storeKind: store, webhook: [url] }, async (r) => {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
      await r.ingest(`/actionurl/dnd_off?mac=${MAC_A}`);
      await hook.waitForMatch((x) => x.json.type === 'phone.dnd_off');
      for (const got of hook.received) {
        const [scheme, value] = String(got.headers.authorization).split(' ');
        assert.equal(scheme, 'Basic');
        assert.equal(Buffer.from(value, 'base64').toString(), 'bridge:p@ss:word');
      }
      const rows = await until('both delivered', async () => {
        const b = (await r.api('/api/v1/deliveries?state=delivered')).body as { deliveries: { type: string; last_status: number }[] };
        const dnd = b.deliveries.filter((d) => d.type.startsWith('phone.dnd'));
        return dnd.length === 2 ? dnd : undefined;
      });
      assert.deepEqual(rows.map((d) => d.last_status), [200, 200]);
      const info = (await r.api('/api/v1/destinations')).body as { destinations: { target: string }[] };
      assert.ok(!JSON.stringify(info).includes('p%40ss'), 'the password is not shown');
    });
  });

  test('an HTTPS destination whose certificate is not trusted fails with the reason, and is retried', { timeout: 20_000 }, async () => {
    const tls = makeSelfSignedCert();
    let hits = 0;
    const server = https.createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as import('node:net').AddressInfo;
    try {
      await withReceiver([], { storeKind: store, webhook: [`https://127.0.0.1:${port}/hook`] }, async (r) => {
        await r.ingest(`/actionurl/dnd_on?mac=${MAC_A}`);
        const row = await until('a failed attempt', async () => {
          const b = (await r.api('/api/v1/deliveries')).body as { deliveries: { attempts: number; last_error: string | null; state: string }[] };
          return b.deliveries.find((d) => d.attempts >= 1);
        });
        assert.match(String(row.last_error), /certificate/i);
        assert.notEqual(row.state, 'delivered');
        assert.equal(hits, 0, 'no request got through an untrusted connection');
      });
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
      tls.remove();
    }
  });

  test('a dead destination does not delay another one', { timeout: 20_000 }, async () => {
    const dead = await startHookServer(() => ({ hang: true }));
    const live = await startHookServer();
    const file = join((await import('node:os')).tmpdir(), `forward-${process.pid}-${Date.now()}-2.json`);
    writeFileSync(
      file,
      JSON.stringify({ destinations: [{ name: 'dead', url: dead.url, timeout_seconds: 30 }, { name: 'live', url: live.url, events: ['incidents'] }] }),
    );
    await withReceiver([dead, live], { storeKind: store, forward: file, forwarding: { schedule: FAST, concurrency: 2, recordEveryMs: 10 } }, async (r) => {
      for (let i = 0; i < 20; i++) await r.ingest(`/actionurl/dnd_on?mac=00156500${String(i).padStart(4, '0')}`);
      await live.waitFor(20, 5000);
      assert.equal(live.received.length, 20);
      assert.ok(dead.received.length <= 2, 'the dead one holds at most its concurrency');
    });
  });
});
