import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { describeEachStore } from '../stores.ts';

const MAC = '00:15:65:AA:BB:CC';
const mac = '001565aabbcc';

describeEachStore('ingest, open receiver', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store });
  });
  after(() => r.cleanup());

  test('a phone request with raw spaces and UTF-8 is stored with its values as sent', async () => {
    const res = await r.ingest(`/actionurl/incoming_call?mac=${MAC}&remote=sip:200@pbx&display_remote=Jörg Müller & Söhne&call_id=7`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'OK\n');
    const { body } = await r.api(`/api/v1/events?mac=${mac}&incident=incoming_call`);
    const e = body.events[0];
    assert.equal(e.mac, mac);
    assert.equal(e.vars.display_remote, 'Jörg Müller & Söhne');
    assert.equal(e.vars.call_id, '7');
    assert.equal(e.source_ip, '127.0.0.1');
    assert.match(e.received_at, /^\d{4}-\d\d-\d\dT/);
  });

  test('Latin-1 bytes from older firmware are kept, read as Latin-1', async () => {
    const target = Buffer.concat([Buffer.from(`/actionurl/missed_call?mac=${mac}&display_remote=J`), Buffer.from([0xf6]), Buffer.from('rg')]);
    assert.equal((await r.ingest(target)).status, 200);
    const { body } = await r.api(`/api/v1/events?incident=missed_call&limit=1`);
    assert.equal(body.events[0].vars.display_remote, 'Jörg');
  });

  test('all three URL forms are accepted, with & and ; separators', async () => {
    const forms = [
      `/actionurl/dnd_on?mac=${mac}`,
      `/actionurl?event=dnd_off;mac=${mac}`,
      `/actionurl/hold/mac=${mac}&call_id=9`,
    ];
    for (const target of forms) assert.equal((await r.ingest(target)).status, 200, target);
    const { body } = await r.api(`/api/v1/events?mac=${mac}&limit=3`);
    assert.deepEqual(body.events.map((e: { incident: string }) => e.incident), ['hold', 'dnd_off', 'dnd_on']);
  });

  test('HTTP/1.0 without a Host header is accepted', async () => {
    const { responses } = await sendRaw(r.port, `GET /actionurl/registered?mac=${mac} HTTP/1.0\r\n\r\n`);
    assert.equal(responses[0].status, 200);
  });

  test('an unusable request gets a 400 with a one-line reason and is kept as rejected', async () => {
    const res = await r.ingest('/actionurl/incoming_call?display_remote=Ann Lee');
    assert.equal(res.status, 400);
    const reason = res.body.toString();
    assert.match(reason, /mac/);
    assert.equal(reason.trim().split('\n').length, 1);
    const { body } = await r.api('/api/v1/rejected?limit=1');
    assert.equal(body.rejected[0].status, 400);
    assert.equal(body.rejected[0].reason, reason.trim());
    assert.equal(body.rejected[0].raw, '/actionurl/incoming_call?display_remote=Ann Lee');
  });

  test('an unknown incident and an invalid MAC are refused and kept', async () => {
    assert.equal((await r.ingest(`/actionurl/coffee_ready?mac=${mac}`)).status, 400);
    assert.equal((await r.ingest('/actionurl/dnd_on?mac=nonsense')).status, 400);
    const { body } = await r.api('/api/v1/rejected?limit=2');
    assert.match(body.rejected[0].reason, /nonsense/);
    assert.match(body.rejected[1].reason, /coffee_ready/);
  });

  test('live phone state follows the events and is served for any MAC spelling', async () => {
    const m = 'aabbccddee01';
    await r.ingest(`/actionurl/registered?mac=${m}&ip=10.0.0.7&model=T46S&firmware=66.86&active_url=sip:100@pbx`);
    await r.ingest(`/actionurl/always_fwd_on?mac=${m}`);
    for (const spelling of ['AA:BB:CC:DD:EE:01', 'aa-bb-cc-dd-ee-01', m]) {
      const { status, body } = await r.api(`/api/v1/phones/${spelling}`);
      assert.equal(status, 200);
      assert.equal(body.mac, m);
      assert.equal(body.ip, '10.0.0.7');
      assert.equal(body.model, 'T46S');
      assert.equal(body.registered, true);
      assert.equal(body.forward.always, true);
      assert.equal(body.presence, 'idle');
    }
    const list = await r.api('/api/v1/phones');
    assert.ok(list.body.phones.some((p: { mac: string }) => p.mac === m));
  });

  test('a phone that sends its first event after the list was read is on the next list, counted once', async () => {
    const before = (await r.api('/api/v1/phones')).body;
    const m = 'aabbccddee0f';
    assert.ok(!before.phones.some((p: { mac: string }) => p.mac === m));
    assert.equal((await r.ingest(`/actionurl/registered?mac=${m}`)).status, 200);
    const after = (await r.api('/api/v1/phones')).body;
    assert.equal(after.total, before.total + 1);
    assert.equal(after.phones.length, after.total);
    assert.ok(after.phones.some((p: { mac: string }) => p.mac === m), `${m} missing from ${JSON.stringify(after.phones.map((p: { mac: string }) => p.mac))}`);
  });

  test('a call through its incidents ends up in the call log with its outcome and times', async () => {
    const m = 'aabbccddee02';
    const call = `mac=${m}&call_id=3&remote=sip:555@pbx&display_remote=Ann Lee&local=sip:100@pbx`;
    await r.ingest(`/actionurl/incoming_call?${call}`);
    const ringing = await r.api(`/api/v1/phones/${m}`);
    assert.equal(ringing.body.presence, 'ringing');
    assert.equal(ringing.body.calls[0].display_remote, 'Ann Lee');
    await r.ingest(`/actionurl/call_established?${call}`);
    await r.ingest(`/actionurl/call_terminated?${call}`);
    const { body } = await r.api(`/api/v1/calls?mac=${m}`);
    assert.equal(body.calls.length, 1);
    const c = body.calls[0];
    assert.equal(c.outcome, 'answered');
    assert.equal(c.direction, 'incoming');
    assert.equal(c.display_remote, 'Ann Lee');
    assert.ok(c.answered_at && c.ended_at);
    assert.equal((await r.api(`/api/v1/calls?mac=${m}&outcome=missed`)).body.calls.length, 0);
    assert.equal((await r.api(`/api/v1/phones/${m}`)).body.calls.length, 0);
  });

  test('pipelined requests from one connection are each stored and answered in order', async () => {
    const m = 'aabbccddee03';
    let reqs = '';
    for (let i = 0; i < 20; i++) reqs += `GET /actionurl/mute?mac=${m}&call_id=${i}&display_remote=Caller ${i} HTTP/1.1\r\n\r\n`;
    const { responses } = await sendRaw(r.port, reqs, { expect: 20 });
    assert.deepEqual(responses.map((x) => x.status), Array(20).fill(200));
    const { body } = await r.api(`/api/v1/events?mac=${m}&limit=100`);
    assert.deepEqual(body.events.map((e: { vars: { call_id: string } }) => e.vars.call_id).reverse(), [...Array(20).keys()].map(String));
  });

  test('concurrent requests share transactions (group commit)', async () => {
    const before = r.server.ctx.metrics.batchSize.observations;
    let reqs = '';
    for (let i = 0; i < 30; i++) reqs += `GET /actionurl/unmute?mac=aabbccddee04&call_id=${i} HTTP/1.1\r\n\r\n`;
    const { responses } = await sendRaw(r.port, reqs, { expect: 30 });
    assert.deepEqual(responses.map((x) => x.status), Array(30).fill(200));
    const commits = r.server.ctx.metrics.batchSize.observations - before;
    assert.ok(commits < 30, `30 requests took ${commits} transactions`);
    // Every acknowledged request is one stored event, in the store and through the API, none twice.
    const sent = [...Array(30).keys()].map(String).sort();
    const stored = await r.server.ctx.store.events({ mac: 'aabbccddee04', limit: 100 });
    assert.deepEqual(stored.map((e) => e.vars.call_id).sort(), sent);
    const { body } = await r.api('/api/v1/events?mac=aabbccddee04&limit=100');
    assert.deepEqual(body.events.map((e: { vars: { call_id: string } }) => e.vars.call_id).sort(), sent);
  });

  test('non-GET methods are refused and kept', async () => {
    const { responses } = await sendRaw(r.port, `DELETE /actionurl/dnd_on?mac=${mac} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    assert.equal(responses[0].status, 405);
  });
});

describeEachStore('ingest token', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, token: 's3cret' });
  });
  after(() => r.cleanup());

  test('missing and wrong tokens get 403 and are kept with the token blanked; the right one is stored', async () => {
    const missing = await r.ingest(`/actionurl/dnd_on?mac=${mac}`);
    assert.equal(missing.status, 403);
    assert.match(missing.body.toString(), /missing token/);
    const wrong = await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=guess`);
    assert.equal(wrong.status, 403);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=s3cret`)).status, 200);

    const rejected = (await r.api('/api/v1/rejected')).body.rejected;
    assert.equal(rejected.length, 2);
    assert.equal(rejected[0].raw, `/actionurl/dnd_on?mac=${mac}&token=***`);
    const events = (await r.api('/api/v1/events')).body.events;
    assert.equal(events.length, 1);
    assert.ok(!events[0].raw.includes('s3cret'));
    assert.equal(events[0].extra.token, undefined);
  });

  test('the token is blanked however the request spelled or encoded it, in events and rejected requests', async () => {
    const accepted = await r.ingest(`/actionurl/dnd_off?mac=${mac}&to%6Ben=s3cret`);
    assert.equal(accepted.status, 200);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&TOKEN=s%33cret`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&%20token=s3cret`)).status, 403);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token%3Ds3cret`)).status, 403);
    assert.equal((await r.ingest(`/actionurl/nope?mac=${mac}&note=s3cret`)).status, 403);
    const events = (await r.api('/api/v1/events?limit=2')).body.events;
    assert.deepEqual(events.map((e: { raw: string }) => e.raw), [
      `/actionurl/dnd_on?mac=${mac}&TOKEN=***`,
      `/actionurl/dnd_off?mac=${mac}&to%6Ben=***`,
    ]);
    const rejected = (await r.api('/api/v1/rejected?limit=3')).body.rejected;
    assert.deepEqual(rejected.map((x: { raw: string }) => x.raw), [
      `/actionurl/nope?mac=${mac}&note=***`,
      `/actionurl/dnd_on?mac=${mac}&token%3D***`,
      `/actionurl/dnd_on?mac=${mac}&%20token=***`,
    ]);
  });
});

describeEachStore('source allowlist and rate limit', { timeout: 120_000 }, (store) => {
  test('a source outside --allow gets 403 and is kept', async () => {
    const r = await startTestReceiver({ storeKind: store, allow: '10.0.0.0/8, fd00::/8' });
    try {
      const res = await r.ingest(`/actionurl/dnd_on?mac=${mac}`);
      assert.equal(res.status, 403);
      assert.match(res.body.toString(), /127\.0\.0\.1/);
      assert.equal((await r.api('/api/v1/events')).body.events.length, 0);
      assert.equal((await r.api('/api/v1/rejected')).body.rejected[0].status, 403);
    } finally {
      await r.cleanup();
    }
  });

  test('a source inside --allow is accepted', async () => {
    const r = await startTestReceiver({ storeKind: store, allow: '127.0.0.0/8' });
    try {
      assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}`)).status, 200);
    } finally {
      await r.cleanup();
    }
  });

  test('over the rate limit: 429, counted, and a flood is summarised instead of stored row by row', async () => {
    let clock = 1_000_000;
    const r = await startTestReceiver({
      storeKind: store,
      rateLimit: '1/s:3',
      now: () => clock,
      rejectionPolicy: { windowMs: 60_000, perSource: 2, total: 100 },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await r.ingest(`/actionurl/dnd_on?mac=${mac}`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
      assert.equal(r.server.ctx.metrics.ingest.get({ incident: 'unknown', result: 'rate_limited' }), 7);
      // Two stored one by one; the other five wait for the window's summary row.
      assert.equal((await r.api('/api/v1/rejected')).body.rejected.length, 2);
      clock += 61_000;
      assert.equal((await r.ingest(`/actionurl/dnd_off?mac=${mac}`)).status, 200);
      assert.equal((await r.ingest('/actionurl/dnd_off')).status, 400); // the next refusal rolls the window over
      const rows = (await r.api('/api/v1/rejected')).body.rejected;
      const summary = rows.find((x: { count: number }) => x.count > 1);
      assert.equal(summary.count, 5);
      assert.equal(summary.status, 429);
      assert.equal(rows.reduce((n: number, x: { count: number }) => n + x.count, 0), 8);
    } finally {
      await r.cleanup();
    }
  });
});

describeEachStore('rejected requests are bounded whatever text a client varies', { timeout: 120_000 }, (store) => {
  test('unknown incidents with a different name each: the first ones stored, the rest one summary row', async () => {
    let clock = 1_000_000;
    const r = await startTestReceiver({ storeKind: store, now: () => clock, rejectionPolicy: { windowMs: 60_000, perSource: 5, total: 100 } });
    try {
      for (let i = 0; i < 200; i++) assert.equal((await r.ingest(`/actionurl/nope${i}?mac=${mac}`)).status, 400);
      assert.equal((await r.api('/api/v1/rejected?limit=500')).body.rejected.length, 5);
      clock += 61_000;
      assert.equal((await r.ingest('/actionurl/dnd_off')).status, 400); // the next refusal rolls the window over
      const rows = (await r.api('/api/v1/rejected?limit=500')).body.rejected;
      assert.equal(rows.length, 7);
      const summary = rows.find((x: { count: number }) => x.count > 1);
      assert.equal(summary.count, 195);
      assert.match(summary.reason, /^unknown incident "nope199" \(summary: 195 refused requests/);
      assert.equal(summary.raw, `/actionurl/nope199?mac=${mac}`);
    } finally {
      await r.cleanup();
    }
  });
});

describeEachStore('durability across restarts', { timeout: 120_000 }, (store) => {
  test('phone states and event ids continue after the receiver restarts on the same database', async () => {
    const r1 = await startTestReceiver({ storeKind: store });
    await r1.ingest(`/actionurl/dnd_on?mac=${mac}`);
    await r1.ingest(`/actionurl/registered?mac=${mac}&model=T54W`);
    const lastId = (await r1.api('/api/v1/events?limit=1')).body.events[0].id;
    await r1.stop();
    const r2 = await startTestReceiver({ storeKind: store }, r1.dir);
    try {
      const phone = (await r2.api(`/api/v1/phones/${mac}`)).body;
      assert.equal(phone.dnd, true);
      assert.equal(phone.model, 'T54W');
      await r2.ingest(`/actionurl/dnd_off?mac=${mac}`);
      const e = (await r2.api('/api/v1/events?limit=1')).body.events[0];
      assert.ok(e.id > lastId);
      assert.equal((await r2.api(`/api/v1/phones/${mac}`)).body.dnd, false);
    } finally {
      await r2.cleanup();
    }
  });
});
