import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { openSse } from './helpers/sse.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { describeEachStore } from '../stores.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describeEachStore('event stream', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, heartbeatMs: 50 });
  });
  after(() => r.cleanup());

  test('new events arrive with their id, as the API shapes them', async () => {
    const sse = openSse(r.port, '/api/v1/stream');
    try {
      assert.equal(await sse.status, 200);
      await r.ingest('/actionurl/incoming_call?mac=001565000001&display_remote=Eve <script>&call_id=1');
      const [m] = await sse.waitFor(1);
      const event = JSON.parse(m.data);
      assert.equal(String(event.id), m.id);
      assert.equal(event.incident, 'incoming_call');
      assert.equal(event.vars.display_remote, 'Eve <script>');
    } finally {
      sse.close();
    }
  });

  test('a client resuming with Last-Event-ID gets what it missed, then live events, without gaps or repeats', async () => {
    const first = (await r.api('/api/v1/events?limit=1')).body.events[0]?.id ?? 0;
    for (let i = 0; i < 5; i++) await r.ingest(`/actionurl/hold?mac=001565000002&call_id=${i}`);
    const sse = openSse(r.port, '/api/v1/stream', { 'Last-Event-ID': String(first) });
    try {
      await sse.waitFor(5);
      await r.ingest('/actionurl/unhold?mac=001565000002&call_id=9');
      const msgs = await sse.waitFor(6);
      const ids = msgs.map((m) => Number(m.id));
      assert.equal(ids[0], first + 1);
      assert.deepEqual(ids, ids.map((_, i) => first + 1 + i));
      assert.equal(JSON.parse(msgs[5].data).incident, 'unhold');
    } finally {
      sse.close();
    }
  });

  test('filters by mac and incident; phones=1 adds phone state messages', async () => {
    const sse = openSse(r.port, '/api/v1/stream?mac=00:15:65:00:00:03&incident=dnd_on&phones=1');
    try {
      await sse.status;
      await r.ingest('/actionurl/dnd_on?mac=001565000004');
      await r.ingest('/actionurl/dnd_off?mac=001565000003');
      await r.ingest('/actionurl/dnd_on?mac=001565000003');
      const msgs = await sse.waitFor(3);
      const events = msgs.filter((m) => m.event === undefined).map((m) => JSON.parse(m.data));
      const phones = msgs.filter((m) => m.event === 'phone').map((m) => JSON.parse(m.data));
      assert.deepEqual(events.map((e) => [e.mac, e.incident]), [['001565000003', 'dnd_on']]);
      assert.deepEqual(phones.map((p) => [p.mac, p.dnd]), [['001565000003', false], ['001565000003', true]]);
    } finally {
      sse.close();
    }
  });

  test('a quiet stream gets keep-alive comments', async () => {
    const sse = openSse(r.port, '/api/v1/stream');
    try {
      await sse.waitForComment();
      assert.equal(sse.comments[0], 'keep-alive');
    } finally {
      sse.close();
    }
  });

  test('stream clients are counted in the metrics and uncounted when they leave', async () => {
    const sse = openSse(r.port, '/api/v1/stream');
    await sse.status;
    assert.equal(r.server.ctx.metrics.streamClients.get(), 1);
    sse.close();
    await sse.closed;
    for (let i = 0; i < 50 && r.server.ctx.metrics.streamClients.get() !== 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(r.server.ctx.metrics.streamClients.get(), 0);
  });

  test('a bad Last-Event-ID is a 400', async () => {
    const res = await r.api('/api/v1/stream', { headers: { 'Last-Event-ID': 'abc' } });
    assert.equal(res.status, 400);
  });
});

test('shutting the receiver down ends open streams', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver();
  const sse = openSse(r.port, '/api/v1/stream');
  assert.equal(await sse.status, 200);
  assert.equal(r.server.ctx.metrics.streamClients.get(), 1);
  let ended = false;
  void sse.closed.then(() => (ended = true));
  await sleep(100);
  assert.equal(ended, false, 'the stream stays open while the receiver runs');
  await r.cleanup();
  const outcome = await Promise.race([sse.closed.then(() => 'closed'), sleep(5000).then(() => 'still open')]);
  assert.equal(outcome, 'closed', 'the server closed the stream when it shut down');
  assert.equal(r.server.ctx.metrics.streamClients.get(), 0);
});

test('HEAD of the stream gets the headers only, and no stream client is counted', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver();
  try {
    const { raw, closed } = await sendRaw(r.port, 'HEAD /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { timeoutMs: 5000 });
    const text = raw.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /Content-Type: text\/event-stream/);
    assert.ok(text.endsWith('\r\n\r\n'), `no body after the headers: ${JSON.stringify(text.slice(text.indexOf('\r\n\r\n')))}`);
    assert.equal(closed, true);
    assert.equal(r.server.ctx.metrics.streamClients.get(), 0);
  } finally {
    await r.cleanup();
  }
});


test('a stream client that does not read is dropped once its unsent bytes pass the limit, and counted', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ streamMaxBufferedBytes: 64 * 1024 });
  const socket = net.connect(r.port, '127.0.0.1');
  socket.on('error', () => {});
  try {
    await r.ingest('/actionurl/registered?mac=001565000077');
    const [stored] = await r.server.ctx.store.eventsAfter(0, 1);
    const phone = r.server.ctx.phones.get('001565000077')!;
    const metrics = r.server.ctx.metrics;
    // Never reads: no 'data' listener, so nothing is taken from the kernel.
    socket.write('GET /api/v1/stream?phones=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    for (let i = 0; i < 200 && metrics.streamClients.get() === 0; i++) await sleep(10);
    assert.equal(metrics.streamClients.get(), 1);
    const big = 'x'.repeat(256 * 1024);
    // 200 messages of 256 KiB would be 50 MB; the client must be dropped long before.
    for (let i = 0; i < 200 && metrics.streamDropped.get() === 0; i++) {
      r.server.ctx.bus.publish({
        type: 'event',
        event: { ...stored, id: stored.id + 1 + i, vars: { ...stored.vars, display_remote: big } },
        phone,
        changedCalls: [],
      });
      await sleep(1);
    }
    assert.equal(metrics.streamDropped.get(), 1);
    for (let i = 0; i < 200 && metrics.streamClients.get() !== 0; i++) await sleep(10);
    assert.equal(metrics.streamClients.get(), 0);
    // The connection (and what it held) is let go, even though the client never reads.
    for (let i = 0; i < 500 && r.server.ctx.metrics.connections.get() !== 0; i++) await sleep(10);
    assert.equal(r.server.ctx.metrics.connections.get(), 0);
  } finally {
    socket.destroy();
    await r.cleanup();
  }
});

test('stream clients beyond the limit get a 503 with a JSON error, counted in the metrics', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ maxStreamClients: 2 });
  const a = openSse(r.port, '/api/v1/stream');
  const b = openSse(r.port, '/api/v1/stream');
  let c: ReturnType<typeof openSse> | undefined;
  try {
    assert.equal(await a.status, 200);
    assert.equal(await b.status, 200);
    const { responses } = await sendRaw(r.port, 'GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { expect: 1 });
    assert.equal(responses[0].status, 503);
    assert.match(responses[0].headers['content-type'], /application\/json/);
    assert.match(JSON.parse(responses[0].body.toString()).error, /too many event-stream clients \(limit 2\)/);
    assert.equal(r.server.ctx.metrics.streamRefused.get(), 1);
    assert.match(await r.server.ctx.metrics.registry.render(), /actionurl_stream_refused_total 1/);
    a.close();
    await a.closed;
    for (let i = 0; i < 200 && r.server.ctx.metrics.streamClients.get() !== 1; i++) await sleep(10);
    c = openSse(r.port, '/api/v1/stream');
    assert.equal(await c.status, 200);
  } finally {
    a.close();
    b.close();
    c?.close();
    await r.cleanup();
  }
});

test('a resuming client that reads is replayed everything it missed, however small the byte limit', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ streamMaxBufferedBytes: 4 * 1024 });
  try {
    for (let i = 0; i < 120; i++) await r.ingest(`/actionurl/hold?mac=001565000088&call_id=${i}&display_remote=${'n'.repeat(300)}`);
    const sse = openSse(r.port, '/api/v1/stream', { 'Last-Event-ID': '0' });
    try {
      const msgs = await sse.waitFor(120, 20_000);
      assert.deepEqual(msgs.map((m) => Number(m.id)), msgs.map((_, i) => i + 1));
      assert.equal(r.server.ctx.metrics.streamDropped.get(), 0);
    } finally {
      sse.close();
    }
  } finally {
    await r.cleanup();
  }
});
