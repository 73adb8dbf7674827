/**
 * MQTT and Home Assistant against real brokers: the machine's Mosquitto (a unique prefix per test) for the
 * topics, retained state, availability, discovery and HA's `online` announcement; a Mosquitto this test
 * starts on its own port, stopped and restarted mid-run, for events committed while the broker is away.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { discoveryProblems, stateProblems } from './helpers/ha-schema.ts';
import { freePort, SHARED_BROKER, startMosquitto, stopMosquitto, watch } from './helpers/mqtt-watch.ts';

const MAC = '001565d00d01';

describe('MQTT and Home Assistant', { timeout: 150_000 }, () => {
  test('topics, retained state, availability, events and discovery HA accepts', { timeout: 30_000 }, async () => {
    const prefix = `autest_${randomBytes(4).toString('hex')}`;
    const disc = `${prefix}_ha`;
    const w = await watch(SHARED_BROKER, [`${prefix}/#`, `${disc}/#`]);
    const r = await startTestReceiver({ mqtt: { url: SHARED_BROKER, prefix, discoveryPrefix: disc } });
    try {
      await w.waitFor((m) => m.topic === `${prefix}/bridge/availability` && m.text === 'online');
      await r.ingest(`/actionurl/registered?mac=${MAC}&ip=10.0.0.7&model=Yealink SIP-T46U&firmware=66.86.0.5&active_user=100&active_host=pbx`);
      await r.ingest(`/actionurl/incoming_call?mac=${MAC}&call_id=3&remote=2001&display_remote=<script>x</script>`);
      await r.ingest(`/actionurl/missed_call?mac=${MAC}&call_id=3&remote=2001`);

      const incoming = await w.waitFor((m) => m.topic === `${prefix}/${MAC}/event/incoming_call`);
      const ev = JSON.parse(incoming.text) as { event_type: string; mac: string; vars: Record<string, string> };
      assert.equal(ev.event_type, 'incoming_call');
      assert.equal(ev.vars.display_remote, '<script>x</script>');
      assert.equal(incoming.retain, false);
      const ended = await w.waitFor((m) => m.topic === `${prefix}/${MAC}/event/call.ended`);
      assert.equal((JSON.parse(ended.text) as { outcome: string }).outcome, 'missed');
      assert.equal((JSON.parse(ended.text) as { number: string }).number, '2001');
      const logged = (await r.api(`/api/v1/calls?mac=${MAC}`)).body.calls as { id: number }[];
      assert.equal((JSON.parse(ended.text) as { id: number }).id, logged[0].id, "the call log's id");
      // The HA event entity's topic carries every event with its event_type, in order.
      const onEventsTopic = w.messages.filter((m) => m.topic === `${prefix}/${MAC}/event`).map((m) => (JSON.parse(m.text) as { event_type: string }).event_type);
      await w.waitFor((m) => m.topic === `${prefix}/${MAC}/event` && m.text.includes('"missed_call"'));
      assert.deepEqual(
        w.messages.filter((m) => m.topic === `${prefix}/${MAC}/event`).map((m) => (JSON.parse(m.text) as { event_type: string }).event_type).filter((t) => !t.includes('.')),
        ['registered', 'incoming_call', 'missed_call'],
        `in commit order (seen so far: ${onEventsTopic.join(', ')})`,
      );

      await w.waitFor((m) => m.topic === `${prefix}/${MAC}/availability` && m.text === 'online');
      const discovery = await w.waitFor((m) => m.topic === `${disc}/device/actionurl_${MAC}/config`);
      assert.equal(discovery.retain, false, 'a live subscriber sees it as a new message');
      const payload = JSON.parse(discovery.text) as {
        dev: { identifiers: string[]; connections: string[][]; configuration_url: string; model: string; sw_version: string };
        cmps: Record<string, { p: string; event_types?: string[] }>;
        availability_mode: string;
      };
      assert.deepEqual(discoveryProblems(payload), []);
      // Every state, availability and event message published so far, as the entities HA set up read it.
      for (const m of w.messages.filter((x) => x.topic.startsWith(`${prefix}/`))) {
        assert.deepEqual(stateProblems(payload, { topic: m.topic, payload: m.text, retained: m.retain }), [], `${m.topic} ${m.text}`);
      }
      assert.deepEqual(payload.dev.connections, [['mac', '00:15:65:d0:0d:01']]);
      assert.equal(payload.dev.configuration_url, 'http://10.0.0.7/');
      assert.equal(payload.dev.sw_version, '66.86.0.5');
      assert.equal(payload.availability_mode, 'all');
      assert.ok(payload.cmps.event.event_types!.includes('incoming_call'));
      assert.equal(payload.cmps.registered.p, 'binary_sensor');

      // A subscriber that comes later gets the retained state and discovery.
      const late = await watch(SHARED_BROKER, [`${prefix}/${MAC}/state`, `${disc}/device/+/config`]);
      try {
        const state = await late.waitFor((m) => m.topic === `${prefix}/${MAC}/state`);
        assert.equal(state.retain, true);
        const s = JSON.parse(state.text) as { mac: string; registered: boolean; presence: string };
        assert.equal(s.mac, MAC);
        assert.equal(s.registered, true);
        const retainedConfig = await late.waitFor((m) => m.topic.endsWith(`actionurl_${MAC}/config`));
        assert.equal(retainedConfig.retain, true);
      } finally {
        await late.close();
      }

      // Home Assistant restarts and says so: discovery is published again.
      const before = w.messages.filter((m) => m.topic === `${disc}/device/actionurl_${MAC}/config`).length;
      await w.client.publishAsync(`${disc}/status`, 'online');
      await w.waitFor((m) => m.topic === `${disc}/device/actionurl_${MAC}/config`, 10_000, w.messages.length);
      assert.ok(w.messages.filter((m) => m.topic === `${disc}/device/actionurl_${MAC}/config`).length > before);

      // A clean stop marks the bridge offline.
      const mark = w.messages.length;
      await r.stop();
      await w.waitFor((m) => m.topic === `${prefix}/bridge/availability` && m.text === 'offline', 10_000, mark);
    } finally {
      await r.cleanup();
      // Leave nothing retained on the shared broker.
      for (const t of [`${prefix}/bridge/availability`, `${prefix}/${MAC}/state`, `${prefix}/${MAC}/availability`, `${disc}/device/actionurl_${MAC}/config`]) {
        await w.client.publishAsync(t, '', { retain: true, qos: 1 });
      }
      await w.close();
    }
  });

  test('events committed while the broker is down are published, in order, when it returns', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-mosquitto-'));
    let broker = await startMosquitto(port, dir);
    const prefix = 'outage';
    const r = await startTestReceiver({ mqtt: { url, prefix, discoveryPrefix: null }, forwarding: { mqttReconnectMaxMs: 500, recordEveryMs: 10 } });
    const w = await watch(url, [`${prefix}/+/event/+`], true);
    try {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC}&n=0`);
      await w.waitFor((m) => m.topic === `${prefix}/${MAC}/event/dnd_on`);

      await stopMosquitto(broker);
      // Acknowledged while the broker is unreachable: kept in the store, not in memory.
      for (let n = 1; n <= 5; n++) assert.equal((await r.ingest(`/actionurl/${n % 2 ? 'dnd_off' : 'dnd_on'}?mac=${MAC}&n=${n}`)).status, 200);
      const waiting = await r.api('/api/v1/deliveries?destination=mqtt');
      const notYet = (waiting.body as { deliveries: { state: string; type: string }[] }).deliveries.filter((d) => d.type.startsWith('phone.dnd') && d.state !== 'delivered');
      assert.equal(notYet.length, 5, 'five deliveries wait in the store');
      const health = await r.api('/api/v1/destinations');
      assert.equal((health.body as { destinations: { name: string; connected: boolean }[] }).destinations.find((d) => d.name === 'mqtt')!.connected, false);

      broker = await startMosquitto(port, dir);
      const mark = w.messages.length;
      const end = Date.now() + 45_000;
      let seen: string[] = [];
      while (Date.now() < end) {
        seen = w.messages.slice(mark).filter((m) => /\/event\/dnd_o(n|ff)$/.test(m.topic)).map((m) => (JSON.parse(m.text) as { extra: { n: string } }).extra.n);
        // At least once: a message whose acknowledgement was lost in the outage may come twice, never out of order.
        seen = seen.filter((n, i) => n !== seen[i - 1]);
        if (seen.length >= 5) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.deepEqual(seen, ['1', '2', '3', '4', '5']);
    } finally {
      await w.close();
      await r.cleanup();
      await stopMosquitto(broker);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
