import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { INCIDENTS } from '../../src/core/catalog.ts';
import { describeEachStore } from '../stores.ts';

describeEachStore('REST API', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  let clock = Date.parse('2025-03-01T12:00:00Z');
  before(async () => {
    r = await startTestReceiver({ storeKind: store, now: () => clock });
    // 12 events over 12 hours from two phones.
    for (let i = 0; i < 12; i++) {
      clock = Date.parse('2025-03-01T00:00:00Z') + i * 3_600_000;
      const mac = i % 2 ? '0015650000b1' : '0015650000a2';
      await r.ingest(`/actionurl/${i % 3 ? 'hold' : 'unhold'}?mac=${mac}&call_id=${i % 4}`);
    }
    clock = Date.parse('2025-03-01T12:00:00Z');
  });
  after(() => r.cleanup());

  test('events page newest first with a next cursor until the end', async () => {
    const ids: number[] = [];
    let next: number | null | undefined;
    let pages = 0;
    do {
      const { body } = await r.api(`/api/v1/events?limit=5${next ? `&before=${next}` : ''}`);
      ids.push(...body.events.map((e: { id: number }) => e.id));
      next = body.next;
      pages++;
    } while (next !== null && pages < 10);
    assert.equal(ids.length, 12);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
  });

  test('events filter by mac (any spelling), incident, call_id and since (span or ISO time)', async () => {
    const byMac = (await r.api('/api/v1/events?mac=00:15:65:00:00:B1&limit=100')).body.events;
    assert.equal(byMac.length, 6);
    assert.ok(byMac.every((e: { mac: string }) => e.mac === '0015650000b1'));
    const unhold = (await r.api('/api/v1/events?incident=unhold')).body.events;
    assert.equal(unhold.length, 4);
    const call1 = (await r.api('/api/v1/events?call_id=1')).body.events;
    assert.equal(call1.length, 3);
    const lastHours = (await r.api('/api/v1/events?since=3h')).body.events;
    assert.equal(lastHours.length, 3); // 09:00, 10:00, 11:00
    const sinceIso = (await r.api('/api/v1/events?since=2025-03-01T10:00:00Z')).body.events;
    assert.equal(sinceIso.length, 2);
  });

  test('bad parameters are 400 with an error naming the parameter', async () => {
    for (const [q, word] of [['mac=zz', 'mac'], ['incident=nope', 'incident'], ['since=yesterday', 'since'], ['limit=0', 'limit'], ['before=x', 'before']]) {
      const { status, body } = await r.api(`/api/v1/events?${q}`);
      assert.equal(status, 400, q);
      assert.match(body.error, new RegExp(word));
    }
    assert.equal((await r.api('/api/v1/calls?outcome=great')).status, 400);
  });

  test('an unknown phone is 404, an unknown API path is 404, both JSON', async () => {
    const phone = await r.api('/api/v1/phones/001122334455');
    assert.equal(phone.status, 404);
    assert.match(phone.body.error, /001122334455/);
    assert.equal((await r.api('/api/v1/phones/notamac')).status, 400);
    const missing = await r.api('/api/v1/nothing');
    assert.equal(missing.status, 404);
    assert.equal(typeof missing.body.error, 'string');
  });

  test('a wrong method on an API path is 405 with Allow', async () => {
    const res = await r.api('/api/v1/events', { method: 'POST' });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow') ?? '', /GET/);
  });

  test('healthz answers ok with the store kind', async () => {
    const { status, body } = await r.api('/healthz');
    assert.equal(status, 200);
    assert.deepEqual({ status: body.status, store: body.store, phones: body.phones }, { status: 'ok', store, phones: 2 });
  });

  test('metrics are Prometheus text with ingest counts, batch sizes and latencies', async () => {
    const { body, headers } = await r.api('/metrics');
    assert.match(headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(body, /^actionurl_ingest_requests_total\{incident="hold",result="stored"\} 8$/m);
    assert.match(body, /^actionurl_commit_batch_size_count \d+$/m);
    assert.match(body, /^actionurl_commit_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    assert.match(body, /^actionurl_open_connections \d+$/m);
    assert.match(body, /^actionurl_stream_clients 0$/m);
    assert.match(body, /^actionurl_phones 2$/m);
    // prom-client's default process metrics come along.
    assert.match(body, /^# TYPE process_resident_memory_bytes gauge$/m);
    assert.match(body, /^process_resident_memory_bytes [1-9]\d*$/m);
    assert.match(body, /^nodejs_eventloop_lag_seconds /m);
    assert.match(body, /^# TYPE actionurl_rejected_requests_total counter$/m);
  });

  test('openapi.json is an OpenAPI 3.1 document covering every endpoint and incident', async () => {
    const { body } = await r.api('/api/v1/openapi.json');
    assert.equal(body.openapi, '3.1.0');
    for (const path of ['/actionurl/{incident}', '/api/v1/events', '/api/v1/phones', '/api/v1/phones/{mac}', '/api/v1/calls', '/api/v1/rejected', '/api/v1/deliveries', '/api/v1/deliveries/{id}/retry', '/api/v1/destinations', '/api/v1/stream', '/healthz', '/metrics', '/provision/{file}', '/api/v1/phones/{mac}/control', '/api/v1/phones/{mac}/commands', '/api/v1/commands/{id}']) {
      assert.ok(body.paths[path], path);
    }
    assert.deepEqual(body.components.schemas.Incident.enum, INCIDENTS.map((i) => i.slug));
    // Every $ref points at a defined schema.
    const refs = JSON.stringify(body).match(/"#\/components\/schemas\/(\w+)"/g) ?? [];
    for (const ref of refs) assert.ok(body.components.schemas[ref.split('/').pop()!.replace('"', '')], ref);
  });
});

describeEachStore('admin token', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, adminToken: 'adm1n' });
  });
  after(() => r.cleanup());

  test('the API needs the Bearer token; ingest, healthz and metrics do not', async () => {
    const none = await r.api('/api/v1/events');
    assert.equal(none.status, 401);
    assert.match(none.body.error, /Bearer/);
    assert.equal((await r.api('/api/v1/phones', { headers: { Authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await r.api('/api/v1/phones', { headers: { Authorization: 'Bearer adm1n' } })).status, 200);
    assert.equal((await r.api('/api/v1/phones?access_token=adm1n')).status, 200);
    assert.equal((await r.ingest('/actionurl/dnd_on?mac=001565aabbcc')).status, 200);
    assert.equal((await r.api('/healthz')).status, 200);
    assert.equal((await r.api('/metrics')).status, 200);
  });
});
