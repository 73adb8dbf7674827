/**
 * Home Assistant controls phones over MQTT, end to end on real sockets: a Mosquitto this file starts on its
 * own port (stopped and restarted mid-run), a receiver with --mqtt, and virtual phones of two vendors whose
 * control endpoints the receiver drives and whose Action URLs confirm. A message on a command topic makes
 * the phone act, and the result topic says so; bad messages get a reason and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { formatMac } from '../../src/core/mac.ts';
import type { ServerOptions } from '../../src/start.ts';
import { receiver, setControl, virtualPhone } from '../control/helpers.ts';
import { discoveryProblems } from './helpers/ha-schema.ts';
import { freePort, startMosquitto, stopMosquitto, watch, type Message, type Watch } from './helpers/mqtt-watch.ts';

interface Result {
  id: string | null;
  mac: string;
  command: string;
  status: string;
  reason: string | null;
  confirmed_by?: { incident: string } | null;
}

let url = '';
let dir = '';
let broker: ChildProcess;
let n = 0;

before(async () => {
  const port = await freePort();
  url = `mqtt://127.0.0.1:${port}`;
  dir = mkdtempSync(join(tmpdir(), 'actionurl-mqtt-control-'));
  broker = await startMosquitto(port, dir);
});
after(async () => {
  await stopMosquitto(broker);
  rmSync(dir, { recursive: true, force: true });
});

/** A receiver on the broker with its own prefixes, and a watcher of everything under them. */
async function setUp(extra: ServerOptions = {}) {
  const prefix = `ctl${++n}`;
  const disc = `${prefix}_ha`;
  const w = await watch(url, [`${prefix}/#`, `${disc}/#`]);
  after(() => w.close());
  const r = await receiver({ mqtt: { url, prefix, discoveryPrefix: disc }, forwarding: { mqttReconnectMaxMs: 300 }, ...extra });
  await w.waitFor((m) => m.topic === `${prefix}/bridge/availability` && m.text === 'online');
  return { r, w, prefix, disc };
}

/** The results published for commands to `mac` from message `from` on, until one is final. */
async function outcome(w: Watch, prefix: string, mac: string, from: number): Promise<Result[]> {
  const topic = `${prefix}/${mac}/command/result`;
  const final = await w.waitFor((m) => m.topic === topic && /"status":"(confirmed|failed)"/.test(m.text), 20_000, from);
  const all = w.messages.slice(from).filter((m: Message) => m.topic === topic);
  return all.slice(0, all.indexOf(final) + 1).map((m) => JSON.parse(m.text) as Result);
}

/** Publishes a command and waits for its final result. */
async function command(w: Watch, topic: string, payload: string, mac: string, prefix: string, retain = false): Promise<Result[]> {
  const from = w.messages.length;
  await w.client.publishAsync(topic, payload, { qos: 1, retain });
  return outcome(w, prefix, mac, from);
}

describe('Home Assistant controls phones over MQTT', { timeout: 240_000 }, () => {
  test('command topics make Yealink and Grandstream phones dial, hang up and set DND; results and the DND state follow', { timeout: 90_000 }, async () => {
    const { r, w, prefix, disc } = await setUp();
    for (const vendor of ['yealink', 'grandstream'] as const) {
      const { phone, web, mac } = await virtualPhone(r, vendor);
      assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);

      // Discovery shows the controls, valid by HA's schema.
      const config = await w.waitFor((m) => m.topic === `${disc}/device/actionurl_${mac}/config` && m.text !== '');
      const payload = JSON.parse(config.text) as { cmps: Record<string, { p: string; command_topic?: string }> };
      assert.deepEqual(discoveryProblems(payload), []);
      assert.equal(payload.cmps.dnd_switch.command_topic, `${prefix}/${mac}/command/dnd`);
      assert.equal(payload.cmps.dial.p, 'text');

      // Dial through the text entity's topic, the MAC spelt as a person would.
      const dial = await command(w, `${prefix}/${formatMac(mac).toUpperCase()}/command/dial`, '2001', mac, prefix);
      assert.equal(dial[0].status, 'sent', JSON.stringify(dial));
      assert.equal(dial.at(-1)!.status, 'confirmed', JSON.stringify(dial));
      assert.equal(dial.at(-1)!.confirmed_by!.incident, 'outgoing_call');
      assert.equal(dial.at(-1)!.id, dial[0].id);
      assert.deepEqual(phone.state.calls.map((c) => [c.direction, c.remoteUser]), [['outgoing', '2001']]);

      const hangup = await command(w, `${prefix}/${mac}/command/hangup`, 'PRESS', mac, prefix);
      assert.equal(hangup.at(-1)!.status, 'confirmed', JSON.stringify(hangup));
      assert.equal(phone.state.calls.length, 0);

      // The DND switch: ON confirmed by the phone's dnd_on, and the retained state the switch reads follows.
      const mark = w.messages.length;
      const on = await command(w, `${prefix}/${mac}/command/dnd`, 'ON', mac, prefix);
      assert.equal(on.at(-1)!.status, 'confirmed', JSON.stringify(on));
      assert.equal(on.at(-1)!.command, 'dnd_on');
      assert.equal(phone.state.dnd, true);
      await w.waitFor((m) => m.topic === `${prefix}/${mac}/state` && (JSON.parse(m.text) as { dnd: boolean }).dnd === true, 10_000, mark);
      // Turning it on again is refused at once (a toggle key would turn it off), with the reason.
      const again = await command(w, `${prefix}/${mac}/command/dnd`, 'ON', mac, prefix);
      assert.equal(again.at(-1)!.status, 'failed');
      assert.match(again.at(-1)!.reason!, /DND/i);
      assert.equal(phone.state.dnd, true);
      const off = await command(w, `${prefix}/${mac}/command/dnd`, 'OFF', mac, prefix);
      assert.equal(off.at(-1)!.status, 'confirmed', JSON.stringify(off));
      assert.equal(phone.state.dnd, false);
      await w.waitFor((m) => m.topic === `${prefix}/${mac}/state` && (JSON.parse(m.text) as { dnd: boolean }).dnd === false, 10_000, mark);
    }
    // Results are not retained: a Home Assistant that starts later does not see old commands again.
    assert.ok(w.messages.filter((m) => m.topic.endsWith('/command/result')).every((m) => !m.retain));
  });

  test('bad messages get a failed result or are ignored, a flood is logged once, and control goes on', { timeout: 90_000 }, async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const { r, w, prefix } = await setUp({ logger, commandSendTimeoutMs: 2000 });
    const { phone, web, mac } = await virtualPhone(r, 'snom');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    assert.ok(lines.some((l) => l.includes('MQTT commands on')), 'the start-up log says commands are on');

    const failed = async (topic: string, payload: string, resultMac: string, retain = false) => {
      const results = await command(w, topic, payload, resultMac, prefix, retain);
      assert.equal(results.length, 1, JSON.stringify(results));
      assert.equal(results[0].status, 'failed');
      assert.equal(results[0].id, null);
      return results[0].reason!;
    };
    assert.match(await failed(`${prefix}/${mac}/command/call`, '2001', mac), /unknown command "call"/);
    assert.match(await failed(`${prefix}/${mac}/command/dial`, '2001; reboot', mac), /number/);
    assert.match(await failed(`${prefix}/${mac}/command/dnd`, 'toggle', mac), /ON or OFF/);
    assert.match(await failed(`${prefix}/${mac}/command/dial`, '1'.repeat(100_000), mac), /at most 1024/);
    assert.match(await failed(`${prefix}/0015659999ff/command/dial`, '2001', '0015659999ff'), /no phone 0015659999ff/);
    assert.equal(phone.state.calls.length, 0, 'none of these dialled');

    // A phone the receiver cannot reach for control (no vendor known, no settings): failed with the reason.
    await r.ingest('/actionurl/registered?mac=aabbccddeeff');
    const stranger = await command(w, `${prefix}/aabbccddeeff/command/answer`, 'PRESS', 'aabbccddeeff', prefix);
    assert.equal(stranger.at(-1)!.status, 'failed');
    assert.match(stranger.at(-1)!.reason!, /vendor/);

    // Someone publishes a command retained: it runs once, as published (live subscribers get it as new)…
    const retained = await command(w, `${prefix}/${mac}/command/dial`, '2001', mac, prefix, true);
    assert.equal(retained.at(-1)!.status, 'confirmed', JSON.stringify(retained));
    assert.equal((await command(w, `${prefix}/${mac}/command/hangup`, 'PRESS', mac, prefix)).at(-1)!.status, 'confirmed');
    // …and not again when the broker replays it to a receiver that subscribes later (a restart).
    const mark = w.messages.length;
    const second = await receiver({ mqtt: { url, prefix, discoveryPrefix: null } });
    const replayed = await outcome(w, prefix, mac, mark);
    await second.stop();
    assert.equal(replayed.at(-1)!.status, 'failed');
    assert.match(replayed.at(-1)!.reason!, /retained/);
    assert.equal(phone.state.calls.length, 0);
    // Clearing it (an empty retained message) reaches live subscribers as an empty message: ignored, no
    // result, nothing dialled; the same for a button, where an empty message must not answer or reboot.
    const clearMark = w.messages.length;
    await w.client.publishAsync(`${prefix}/${mac}/command/dial`, '', { qos: 1, retain: true });
    await w.client.publishAsync(`${prefix}/${mac}/command/reboot`, '', { qos: 1, retain: true });
    await w.waitFor((m) => m.topic === `${prefix}/${mac}/command/reboot` && m.text === '', 5000, clearMark);
    await new Promise((ok) => setTimeout(ok, 300));
    assert.deepEqual(w.messages.slice(clearMark).filter((m) => m.topic.endsWith('/command/result')), []);
    assert.equal(phone.state.calls.length, 0);

    // A flood of garbage (no MAC, so nothing to answer): one warning, not two hundred; counted.
    const before = lines.filter((l) => l.includes('invalid command message')).length;
    await Promise.all(Array.from({ length: 200 }, (_, i) => w.client.publishAsync(`${prefix}/printer${i}/command/dial`, '1', { qos: 1 })));
    const dial = await command(w, `${prefix}/${mac}/command/dial`, '2002', mac, prefix);
    assert.equal(dial.at(-1)!.status, 'confirmed', JSON.stringify(dial));
    const warned = lines.filter((l) => l.includes('invalid command message')).length - before;
    assert.ok(warned <= 1, `${warned} warnings for a burst`);
    const metrics = await r.api('/metrics');
    assert.match(String(metrics.body), /actionurl_mqtt_command_messages_total\{outcome="bad_mac"\} 200/);
    assert.match(String(metrics.body), /actionurl_mqtt_command_messages_total\{outcome="started"\} \d/);
    // Our own result messages, read back through the subscription, were not taken as commands.
    assert.doesNotMatch(String(metrics.body), /outcome="unknown_command"\} [2-9]/);
    assert.ok(w.messages.every((m) => !(m.topic.endsWith('/command/result') && m.text.includes('"command":"result"'))));
  });

  test('the subscription is back after the broker restarts', { timeout: 90_000 }, async () => {
    const { r, w, prefix } = await setUp();
    const { phone, web, mac } = await virtualPhone(r, 'yealink');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    const port = Number(new URL(url).port);
    await stopMosquitto(broker);
    broker = await startMosquitto(port, dir);
    // The bridge reconnects (backing off at most 300 ms here), subscribes again, then says it is online.
    const mark = w.messages.length;
    await w.waitFor((m) => m.topic === `${prefix}/bridge/availability` && m.text === 'online', 30_000, mark);
    const dial = await command(w, `${prefix}/${mac}/command/dial`, '2001', mac, prefix);
    assert.equal(dial.at(-1)!.status, 'confirmed', JSON.stringify(dial));
    assert.equal(phone.state.calls[0].remoteUser, '2001');
  });

  test('commands off: no controls in discovery, nothing subscribed, nothing dialled', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const { r, w, prefix, disc } = await setUp({ mqttCommands: false, logger });
    const { phone, web, mac } = await virtualPhone(r, 'yealink');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    assert.ok(lines.some((l) => l.includes('MQTT commands off')));
    const config = await w.waitFor((m) => m.topic === `${disc}/device/actionurl_${mac}/config` && m.text !== '');
    const payload = JSON.parse(config.text) as { cmps: Record<string, { p: string }> };
    assert.deepEqual(discoveryProblems(payload), []);
    assert.deepEqual(Object.values(payload.cmps).filter((c) => ['switch', 'button', 'text'].includes(c.p)), []);
    const mark = w.messages.length;
    await w.client.publishAsync(`${prefix}/${mac}/command/dial`, '2001', { qos: 1 });
    await new Promise((res) => setTimeout(res, 1500));
    assert.deepEqual(w.messages.slice(mark).filter((m) => m.topic.endsWith('/command/result')), []);
    assert.equal(phone.state.calls.length, 0);
    // The REST API still controls it: only the MQTT door is shut.
    const viaApi = await r.api(`/api/v1/phones/${mac}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"command":"dial","number":"2001"}' });
    assert.equal(viaApi.status, 202);
  });

  test('forgetting a phone removes its device from Home Assistant and clears its retained topics', { timeout: 60_000 }, async () => {
    const { r, w, prefix, disc } = await setUp();
    const { mac } = await virtualPhone(r, 'yealink');
    const configTopic = `${disc}/device/actionurl_${mac}/config`;
    await w.waitFor((m) => m.topic === configTopic && m.text !== '');
    await w.waitFor((m) => m.topic === `${prefix}/${mac}/state`);
    const mark = w.messages.length;
    const forgotten = await r.api(`/api/v1/phones/${mac}`, { method: 'DELETE' });
    assert.equal(forgotten.status, 200);
    for (const topic of [configTopic, `${prefix}/${mac}/state`, `${prefix}/${mac}/availability`]) {
      await w.waitFor((m) => m.topic === topic && m.text === '', 10_000, mark);
    }
    // Someone subscribing now (Home Assistant starting) finds nothing retained for it.
    const late = await watch(url, [`${disc}/device/+/config`, `${prefix}/${mac}/#`]);
    try {
      await new Promise((res) => setTimeout(res, 500));
      assert.deepEqual(late.messages.filter((m) => m.topic.includes(mac)), []);
    } finally {
      await late.close();
    }
  });
});

describe('the broker ACL docs/forwarding.md gives', { timeout: 90_000 }, () => {
  test('Home Assistant\'s user may command phones; a read-only user and anonymous clients may not', { timeout: 60_000 }, async () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/forwarding.md'), 'utf8');
    const acl = /```\n(# \/etc\/mosquitto\/acl[\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(acl, 'the ACL example is in docs/forwarding.md');
    const aclDir = mkdtempSync(join(tmpdir(), 'actionurl-mqtt-acl-'));
    after(() => rmSync(aclDir, { recursive: true, force: true }));
    // Mosquitto started as root reads these files after dropping to its own user.
    chmodSync(aclDir, 0o755);
    const passwd = join(aclDir, 'passwd');
    const users = { actionurl: 'receiver-secret', homeassistant: 'ha-secret', wallboard: 'wall-secret' };
    for (const [i, [user, password]] of Object.entries(users).entries()) {
      execFileSync(process.env.ACTIONURL_TEST_MOSQUITTO_PASSWD ?? 'mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, password]);
    }
    writeFileSync(join(aclDir, 'acl'), acl);
    chmodSync(passwd, 0o644);
    const port = await freePort();
    const b = await startMosquitto(port, aclDir, `allow_anonymous false\npassword_file ${passwd}\nacl_file ${join(aclDir, 'acl')}\n`);
    after(() => stopMosquitto(b));
    const at = (user: keyof typeof users) => `mqtt://${user}:${users[user]}@127.0.0.1:${port}`;

    const r = await receiver({ mqtt: { url: at('actionurl'), prefix: 'actionurl', discoveryPrefix: 'homeassistant' } });
    const ha = await watch(at('homeassistant'), ['actionurl/#', 'homeassistant/#']);
    after(() => ha.close());
    const wall = await watch(at('wallboard'), ['actionurl/+/state']);
    after(() => wall.close());
    const { phone, web, mac } = await virtualPhone(r, 'yealink');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    await ha.waitFor((m) => m.topic === `homeassistant/device/actionurl_${mac}/config`);
    await wall.waitFor((m) => m.topic === `actionurl/${mac}/state`);

    // The wallboard's publish is dropped by the broker: no result, no call.
    const mark = ha.messages.length;
    await wall.client.publishAsync(`actionurl/${mac}/command/dial`, '2001', { qos: 1 });
    await new Promise((res) => setTimeout(res, 1500));
    assert.deepEqual(ha.messages.slice(mark).filter((m) => m.topic.includes('/command/')), []);
    assert.equal(phone.state.calls.length, 0);
    await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000 }), 'anonymous clients are refused');

    const dial = await command(ha, `actionurl/${mac}/command/dial`, '2001', mac, 'actionurl');
    assert.equal(dial.at(-1)!.status, 'confirmed', JSON.stringify(dial));
    await r.stop();
  });
});
