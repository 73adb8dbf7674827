/**
 * The receiver's conclusions, forwarded: call.ended (outcome, ring and talk time, caller), phone.online,
 * phone.registration and phone.offline, against a real local webhook; and a rule that selects them apart
 * from incidents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { startHookServer } from './helpers/hook-server.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const MAC = '001565c0ffee';

test('call.ended, phone.online, phone.registration and phone.offline reach a destination that asked for them', { timeout: 30_000 }, async () => {
  const hook = await startHookServer();
  const incidents = await startHookServer();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-'));
  const file = join(dir, 'forward.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        destinations: [
          { name: 'conclusions', url: hook.url, events: ['conclusions'] },
          { name: 'calls-only', url: incidents.url, events: ['incoming_call'], phones: ['00:15:65:*'] },
        ],
      },
      null,
      2,
    ),
  );
  const r = await startTestReceiver({
    forward: file,
    offlineAfterMs: 1500,
    forwarding: { schedule: [0, 50], recordEveryMs: 10, sweepEveryMs: 100 },
  });
  try {
    await r.ingest(`/actionurl/registered?mac=${MAC}&active_user=100&active_host=pbx`);
    await r.ingest(`/actionurl/incoming_call?mac=${MAC}&call_id=9&remote=sip:2001@pbx&display_remote=Anna Meier`);
    await new Promise((res) => setTimeout(res, 120));
    await r.ingest(`/actionurl/missed_call?mac=${MAC}&call_id=9&remote=sip:2001@pbx&display_remote=Anna Meier`);
    await r.ingest(`/actionurl/incoming_call?mac=001666000001&call_id=1`);

    const ended = await hook.waitForMatch((x) => x.json.type === 'call.ended');
    const call = ended.json.data as Record<string, unknown>;
    assert.equal(call.mac, MAC);
    assert.equal(call.outcome, 'missed');
    assert.equal(call.direction, 'incoming');
    assert.equal(call.remote, 'sip:2001@pbx');
    assert.equal(call.number, '2001', "the caller's number, beside the URI the phone sent");
    // The call as GET /api/v1/calls has it, its id included.
    const logged = (await r.api(`/api/v1/calls?mac=${MAC}`)).body.calls as Record<string, unknown>[];
    assert.equal(logged.length, 1);
    assert.equal(call.id, logged[0].id);
    assert.deepEqual(call, logged[0]);
    assert.equal(call.display_remote, 'Anna Meier');
    assert.ok(typeof call.ring_seconds === 'number' && call.ring_seconds >= 0.1, `ring time ${call.ring_seconds}`);
    assert.equal(call.talk_seconds, null);

    const online = await hook.waitForMatch((x) => x.json.type === 'phone.online' && (x.json.data as { mac: string }).mac === MAC);
    assert.equal((online.json.data as { mac: string }).mac, MAC);
    const reg = await hook.waitForMatch((x) => x.json.type === 'phone.registration');
    assert.equal((reg.json.data as { registered: boolean }).registered, true);

    // Silent for longer than the offline threshold: the sweep concludes phone.offline, once.
    const offline = await hook.waitForMatch((x) => x.json.type === 'phone.offline' && (x.json.data as { mac: string }).mac === MAC, 0, 10_000);
    assert.ok(offline);
    await new Promise((res) => setTimeout(res, 400));
    assert.equal(hook.received.filter((x) => x.json.type === 'phone.offline' && (x.json.data as { mac: string }).mac === MAC).length, 1);

    assert.ok(!hook.received.some((x) => x.json.type.startsWith('phone.') && !['phone.online', 'phone.offline', 'phone.registration'].includes(x.json.type)), 'no raw incidents');
    assert.equal(hook.received.filter((x) => x.json.type === 'call.ended').length, 1, 'one call.ended per call');

    // The other rule: only incoming_call, only phones matching 00:15:65:*.
    await incidents.waitFor(1);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(incidents.received.map((x) => x.json.type), ['phone.incoming_call']);
    assert.equal((incidents.received[0].json.data as { event: { mac: string } }).event.mac, MAC);
  } finally {
    await r.cleanup();
    await hook.close();
    await incidents.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on PostgreSQL (reducer in the ingest transaction) a missed call still concludes call.ended, once', { timeout: 30_000 }, async () => {
  const pgBase = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `au_concl_${randomBytes(5).toString('hex')}`;
  const hook = await startHookServer();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-'));
  const file = join(dir, 'forward.json');
  writeFileSync(file, JSON.stringify({ destinations: [{ name: 'conclusions', url: hook.url, events: ['conclusions'] }] }));
  const r = await startTestReceiver({
    db: `${pgBase}?schema=${schema}`,
    forward: file,
    forwarding: { schedule: [0, 50], recordEveryMs: 10, sweepEveryMs: 100 },
  });
  try {
    await r.ingest(`/actionurl/incoming_call?mac=${MAC}&call_id=7&remote=sip:2002@pbx`);
    await r.ingest(`/actionurl/missed_call?mac=${MAC}&call_id=7&remote=sip:2002@pbx`);
    const ended = await hook.waitForMatch((x) => x.json.type === 'call.ended');
    const call = ended.json.data as Record<string, unknown>;
    assert.equal(call.mac, MAC);
    assert.equal(call.outcome, 'missed');
    assert.equal(call.remote, 'sip:2002@pbx');
    assert.equal(call.number, '2002');
    const logged = (await r.api(`/api/v1/calls?mac=${MAC}`)).body.calls as Record<string, unknown>[];
    assert.deepEqual(call, logged[0], 'the call as GET /api/v1/calls has it, its id included');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(hook.received.filter((x) => x.json.type === 'call.ended').length, 1, 'one call.ended per call');
  } finally {
    await r.cleanup();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: pgBase });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});
