/**
 * Broken-phone traffic through the real receiver: phones reporting incoming calls with new ids that never
 * end, and a flood of distinct MACs. State and API answers stay within the caps, also after a restart
 * (replay); the phones list pages; JSON is compressed for clients that accept it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { describeEachStore } from '../stores.ts';

const OPEN_CALLS = 8;

/** Sends GETs to ingest, `parallel` at a time; every one must be answered 200. */
async function ingestAll(base: string, targets: string[], parallel = 32): Promise<void> {
  for (let i = 0; i < targets.length; i += parallel) {
    const statuses = await Promise.all(targets.slice(i, i + parallel).map(async (t) => (await fetch(`${base}${t}`)).status));
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
  }
}

/** A GET with the given Accept-Encoding, body bytes as received (node:http does not decompress). */
function rawGet(url: string, encoding?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: encoding ? { 'Accept-Encoding': encoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const mac = (i: number) => `0015${(0x65000000 + i).toString(16).padStart(8, '0')}`;

describeEachStore('broken phones: calls that never end', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store });
  });
  after(() => r.cleanup());

  test('20 phones × 60 new call ids: 8 open calls each, small answers, the rest closed by call_limit; the same after a restart', async () => {
    const targets: string[] = [];
    for (let c = 0; c < 60; c++) {
      for (let p = 0; p < 20; p++) targets.push(`/actionurl/incoming_call?mac=${mac(p)}&call_id=flood-${c}&remote=sip:${c}@x&display_remote=Caller%20${c}`);
    }
    await ingestAll(r.server.url, targets);
    const check = async () => {
      const list = await r.api('/api/v1/phones?limit=1000');
      assert.equal(list.body.phones.length, 20);
      for (const p of list.body.phones) {
        assert.equal(p.open_calls, OPEN_CALLS);
        assert.equal(p.call.call_id, 'flood-52', 'the oldest open call is shown');
        assert.equal('calls' in p, false, 'the list carries no call arrays');
      }
      assert.ok(JSON.stringify(list.body).length < 20 * 2500, `${JSON.stringify(list.body).length} bytes for 20 phones`);
      const one = await r.api(`/api/v1/phones/${mac(3)}`);
      assert.equal(one.body.calls.length, OPEN_CALLS);
      assert.deepEqual(one.body.calls.map((c: { call_id: string }) => c.call_id), Array.from({ length: 8 }, (_, i) => `flood-${52 + i}`));
    };
    await check();
    const closed = await r.api(`/api/v1/calls?mac=${mac(3)}&outcome=missed&limit=1000`);
    assert.equal(closed.body.calls.length, 60 - OPEN_CALLS);
    for (const c of closed.body.calls) assert.equal(c.ended_by, 'call_limit');
    const metrics = await (await fetch(`${r.server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^actionurl_open_calls ${20 * OPEN_CALLS}$`, 'm'));
    assert.match(metrics, /^actionurl_phones 20$/m);
    const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(rss > 10 * 1024 * 1024 && rss < 4 * 1024 ** 3, `resident memory ${rss}`);
    const memory = r.server.ctx.phones.get(mac(3))!;
    assert.ok(JSON.stringify(memory).length < 15_000);

    // A restart rebuilds the same bounded states (from the checkpoint and the replayed events).
    await r.stop();
    const again = await startTestReceiver({ storeKind: store }, r.dir);
    try {
      const phone = again.server.ctx.phones.get(mac(3))!;
      assert.equal(phone.calls.length, OPEN_CALLS);
      const one = await again.api(`/api/v1/phones/${mac(3)}`);
      assert.equal(one.body.calls.length, OPEN_CALLS);
    } finally {
      await again.stop();
    }
  });
});

describeEachStore('a flood of distinct MACs', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store });
    await ingestAll(r.server.url, Array.from({ length: 1500 }, (_, i) => `/actionurl/registered?mac=${mac(100_000 + i)}`));
  });
  after(() => r.cleanup());

  test('the phones list pages by MAC: every phone once, in order, each page bounded', async () => {
    const first = await r.api('/api/v1/phones');
    assert.equal(first.body.phones.length, 500, 'a default page, not the whole fleet');
    assert.equal(first.body.total, 1500);
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { body: { phones: { mac: string }[]; next: string | null } } = await r.api(`/api/v1/phones?limit=400${after ? `&after=${after}` : ''}`);
      assert.ok(page.body.phones.length <= 400);
      seen.push(...page.body.phones.map((p) => p.mac));
      after = page.body.next;
      if (after === null) break;
    }
    assert.equal(after, null);
    assert.equal(seen.length, 1500);
    assert.equal(new Set(seen).size, 1500);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal((await r.api('/api/v1/phones?after=nonsense')).status, 400);
  });

  test('JSON is compressed for clients that accept it; tiny answers and the stream are not', async () => {
    const url = `${r.server.url}/api/v1/phones?limit=1000`;
    const plain = await rawGet(url);
    assert.equal(plain.headers['content-encoding'], undefined);
    const br = await rawGet(url, 'gzip, deflate, br');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.match(String(br.headers.vary), /Accept-Encoding/);
    assert.ok(br.body.length * 5 < plain.body.length, `${br.body.length} compressed vs ${plain.body.length}`);
    assert.deepEqual(JSON.parse(brotliDecompressSync(br.body).toString()), JSON.parse(plain.body.toString()));
    const gz = await rawGet(url, 'gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(JSON.parse(gunzipSync(gz.body).toString()), JSON.parse(plain.body.toString()));
    assert.equal((await rawGet(url, 'gzip;q=0, identity')).headers['content-encoding'], undefined);

    const tiny = await rawGet(`${r.server.url}/api/v1/phones/${mac(100_000)}`, 'br');
    assert.equal(tiny.headers['content-encoding'], undefined, 'a small answer goes out as it is');
    const ok = await rawGet(`${r.server.url}/actionurl/registered?mac=${mac(1)}`, 'br');
    assert.equal(ok.body.toString(), 'OK\n');
    const page = await rawGet(`${r.server.url}/`, 'br');
    assert.equal(page.status, 200);

    const stream = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      const req = request(`${r.server.url}/api/v1/stream`, { headers: { 'Accept-Encoding': 'br, gzip' } }, (res) => {
        resolve(res.headers);
        res.destroy();
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(stream['content-encoding'], undefined);
    assert.match(String(stream['content-type']), /text\/event-stream/);
  });
});

describeEachStore('a flood of new MACs beyond --max-phones', { timeout: 60_000 }, (store) => {
  test('phones beyond the limit are refused with 503 and kept as rejected; known phones carry on', async () => {
    const r = await startTestReceiver({ storeKind: store, maxPhones: 40 });
    try {
      const statuses = [];
      for (let i = 0; i < 50; i++) statuses.push((await fetch(`${r.server.url}/actionurl/registered?mac=${mac(500_000 + i)}`)).status);
      assert.deepEqual(statuses.slice(0, 40), new Array(40).fill(200));
      assert.deepEqual(statuses.slice(40), new Array(10).fill(503));
      assert.equal(r.server.ctx.phones.size, 40);
      // A phone already known still gets its events stored.
      assert.equal((await fetch(`${r.server.url}/actionurl/dnd_on?mac=${mac(500_003)}`)).status, 200);
      const refused = await r.api('/api/v1/rejected?limit=100');
      const limited = refused.body.rejected.filter((x: { reason: string }) => /^phone limit reached: this receiver keeps at most 40 phones/.test(x.reason));
      assert.equal(limited.length, 10);
      assert.equal((await r.api('/api/v1/phones')).body.total, 40);
    } finally {
      await r.cleanup();
    }
  });

  test('a burst of new MACs at once keeps exactly the limit (first events still being committed count)', async () => {
    const r = await startTestReceiver({ storeKind: store, maxPhones: 5 });
    try {
      const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`${r.server.url}/actionurl/registered?mac=${mac(600_000 + i)}`).then((x) => x.status)));
      assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 503).length, 35);
      assert.equal((await r.api('/api/v1/phones')).body.total, 5);
    } finally {
      await r.cleanup();
    }
  });
});
