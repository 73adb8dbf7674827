/**
 * Commands go only where the admin said, tried as an attacker on the phones' network would: a forged
 * `ip_change` (no token needed) naming the victim's MAC, control addresses pointed at the cloud metadata
 * service or at other ports of the receiver's host. A listener at each address the attacker names records
 * what arrives: nothing may, least of all the fleet's admin credentials.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { command, finished, receiver, run, setControl, virtualPhone } from './helpers.ts';
import { startTestReceiver, type TestReceiver } from '../server/helpers/receiver.ts';
import { describeEachStore } from '../stores.ts';

/** A TCP listener that records every connection and what arrived on it (answers nothing useful). */
async function recorder(host: string, port = 0): Promise<{ port: number; arrived: string[]; close(): Promise<void> }> {
  const arrived: string[] = [];
  const server = net.createServer((socket) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK');
    });
    socket.on('close', () => arrived.push(text || '(connection)'));
    socket.on('error', () => {});
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  const close = () => new Promise<void>((res) => server.close(() => res()));
  after(close);
  return { port: (server.address() as net.AddressInfo).port, arrived, close };
}

/** A listener on `host` port 80 (where `http://<host>` goes), else on a free port when 80 cannot be had. */
async function recorderOn80(host: string) {
  try {
    return await recorder(host, 80);
  } catch {
    return recorder(host);
  }
}

/** A GET to the receiver sent from another local address (as a second device on the LAN would). */
function ingestFrom(r: TestReceiver, localAddress: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: r.port, path: target, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const settle = () => new Promise((res) => setTimeout(res, 300));

describe('a forged event never redirects a command', { timeout: 120_000 }, () => {
  test('no approved address: a forged ip_change naming the victim, then Dial: nothing reaches the attacker, the fleet password stays home', async () => {
    const trap = await recorderOn80('127.0.0.2');
    const r = await receiver({ phoneUser: 'fleetadmin', phonePassword: 'Fleet-9d2c71' });
    const { mac, web } = await virtualPhone(r, 'yealink');
    const trapHost = trap.port === 80 ? '127.0.0.2' : `127.0.0.2:${trap.port}`;
    assert.equal(await ingestFrom(r, '127.0.0.2', `/actionurl/ip_change?mac=${mac}&ip=${trapHost}`), 200);
    const out = await run(r, mac, { command: 'dial', number: '2001' });
    await settle();
    assert.deepEqual(trap.arrived, [], 'the command (and its Authorization header) went to the address the forged event named');
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /^no approved control address for this phone/);
    assert.equal(web.control.records().length, 0);
  });

  test('an approved address: a forged ip_change makes the phone look moved, commands wait for the admin, the new address gets nothing', async () => {
    const trap = await recorderOn80('127.0.0.3');
    const r = await receiver();
    const { mac, web, phone } = await virtualPhone(r, 'grandstream');
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
    assert.equal(await ingestFrom(r, '127.0.0.3', `/actionurl/ip_change?mac=${mac}&ip=127.0.0.3`), 200);
    await settle();

    const view = await r.api(`/api/v1/phones/${mac}/control`);
    assert.equal(view.body.url, web.url, 'the approved address is not changed by an event');
    assert.deepEqual(view.body.moved, { from: '127.0.0.1', to: '127.0.0.3' });
    assert.match(view.body.effective.problem, /^moved: confirm new address 127\.0\.0\.3/);
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'failed');
    assert.match(out.reason, /^moved: confirm new address 127\.0\.0\.3/);
    await settle();
    assert.deepEqual(trap.arrived, []);
    assert.equal(web.control.records().length, 0, 'nothing was sent to the old address either');

    // Confirming an address the phone does not report is refused; the phone's own next report from where
    // it really is clears the doubt, and commands flow again.
    const wrong = await r.api(`/api/v1/phones/${mac}/control/confirm`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: '10.9.9.9' }),
    });
    assert.equal(wrong.status, 409);
    assert.match(wrong.body.error, /does not report 10\.9\.9\.9 now \(it reports 127\.0\.0\.3\)/);
    phone.act({ do: 'dnd', on: true });
    phone.act({ do: 'dnd', on: false });
    await phone.drained();
    await settle();
    assert.equal((await r.api(`/api/v1/phones/${mac}/control`)).body.moved, null);
    assert.equal((await run(r, mac, { command: 'dnd_on' })).status, 'confirmed');
    assert.deepEqual(trap.arrived, []);
  });

  test('a phone that really moved: the admin confirms the new address, keeping the port; commands go there', async () => {
    const r = await receiver();
    const { mac, web } = await virtualPhone(r, 'snom');
    const port = new URL(web.url).port;
    assert.equal((await setControl(r, mac, { url: `http://127.0.0.5:${port}`, username: 'admin', password: 'admin' })).status, 200);
    await ingestFrom(r, '127.0.0.1', `/actionurl/ip_change?mac=${mac}&ip=127.0.0.1`);
    await settle();
    const view = await r.api(`/api/v1/phones/${mac}/control`);
    assert.deepEqual(view.body.moved, { from: '127.0.0.5', to: '127.0.0.1' });
    const ok = await r.api(`/api/v1/phones/${mac}/control/confirm`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: '127.0.0.1' }),
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.url, web.url);
    assert.equal(ok.body.moved, null);
    assert.equal((await run(r, mac, { command: 'dnd_on' })).status, 'confirmed');
  });

  test('--control-from-source: the first source is approved (never a reported $ip); a later different source only makes it look moved', async () => {
    const r = await receiver({ controlFromSource: '127.0.0.0/24' });
    const mac = '001565a1b2c3';
    await ingestFrom(r, '127.0.0.6', `/actionurl/registered?mac=${mac}&ip=10.1.1.1&model=SIP-T46U`);
    await settle();
    let view = await r.api(`/api/v1/phones/${mac}/control`);
    assert.equal(view.body.url, 'http://127.0.0.6');
    await ingestFrom(r, '127.0.0.7', `/actionurl/ip_change?mac=${mac}&ip=127.0.0.7`);
    await settle();
    view = await r.api(`/api/v1/phones/${mac}/control`);
    assert.equal(view.body.url, 'http://127.0.0.6');
    assert.deepEqual(view.body.moved, { from: '127.0.0.6', to: '127.0.0.7' });
    // Outside the rule's networks nothing is learnt.
    const other = '001565a1b2c4';
    const r2 = await receiver({ controlFromSource: '10.0.0.0/8' });
    await ingestFrom(r2, '127.0.0.6', `/actionurl/registered?mac=${other}&model=SIP-T46U`);
    await settle();
    assert.equal((await r2.api(`/api/v1/phones/${other}/control`)).body.url, null);
  });
});

describeEachStore('approved addresses outlive a restart', { timeout: 120_000 }, (storeKind) => {
  test('a learnt address, an admin\'s address and a moved phone are as they were after a restart; a confirmation is kept', async () => {
    const options = { storeKind, controlFromSource: '127.0.0.0/24' };
    const r = await startTestReceiver(options);
    const restarted: TestReceiver[] = [];
    // The restarted receivers stop before the first one's cleanup drops the schema and the folder.
    after(async () => {
      for (const x of restarted) await x.stop();
      await r.cleanup();
    });
    const learnt = '001565d00001';
    const set = '001565d00002';
    await ingestFrom(r, '127.0.0.6', `/actionurl/registered?mac=${learnt}&model=SIP-T46U`);
    assert.equal((await setControl(r, set, { url: 'http://127.0.0.8:8081', vendor: 'snom' })).status, 200);
    await ingestFrom(r, '127.0.0.9', `/actionurl/ip_change?mac=${set}&ip=127.0.0.9`);
    await settle();
    assert.equal((await r.api(`/api/v1/phones/${learnt}/control`)).body.url, 'http://127.0.0.6');
    await r.stop();

    const again = await startTestReceiver(options, r.dir);
    restarted.push(again);
    assert.equal((await again.api(`/api/v1/phones/${learnt}/control`)).body.url, 'http://127.0.0.6');
    const view = await again.api(`/api/v1/phones/${set}/control`);
    assert.equal(view.body.url, 'http://127.0.0.8:8081');
    assert.deepEqual(view.body.moved, { from: '127.0.0.8', to: '127.0.0.9' });
    const failed = await finished(again, (await command(again, set, { command: 'hangup' })).body.id);
    assert.match(failed.reason, /^moved: confirm new address 127\.0\.0\.9/);
    const ok = await again.api(`/api/v1/phones/${set}/control/confirm`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: '127.0.0.9' }),
    });
    assert.equal(ok.status, 200);
    await again.stop();

    const third = await startTestReceiver(options, r.dir);
    restarted.push(third);
    const kept = await third.api(`/api/v1/phones/${set}/control`);
    assert.equal(kept.body.url, 'http://127.0.0.9:8081');
    assert.equal(kept.body.moved, null);
  });
});

describe('an inventory import approves control addresses', { timeout: 120_000 }, () => {
  test('a control_url column sets them; one refused address imports nothing at all', async () => {
    const r = await receiver();
    const csv = (body: string) => r.api('/api/v1/inventory', { method: 'POST', headers: { 'content-type': 'text/csv' }, body });
    const bad = await csv('mac,name,control_url\n001565000051,Desk 1,http://10.0.0.51\n001565000052,Desk 2,http://169.254.169.254\n');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^nothing imported: line 3: control_url: "url" refused: 169\.254\.169\.254 is link-local/);
    assert.equal((await r.api('/api/v1/phones/001565000051/control')).body.url, null);
    assert.deepEqual((await r.api('/api/v1/inventory')).body.inventory, []);
    const good = await csv('mac,name,control_url\n00:15:65:00:00:51,Desk 1,http://10.0.0.51/\n001565000052,Desk 2,\n');
    assert.equal(good.status, 200);
    assert.deepEqual(good.body, { imported: 2, control_urls: 1 });
    assert.equal((await r.api('/api/v1/phones/001565000051/control')).body.url, 'http://10.0.0.51');
    assert.equal((await r.api('/api/v1/phones/001565000052/control')).body.url, null);
  });
});

describe('control targets are limited to the phones\' networks', { timeout: 120_000 }, () => {
  test('the cloud metadata service is refused in every spelling, before anything is stored or sent', async () => {
    const r = await receiver();
    const mac = '001565000042';
    for (const url of [
      'http://169.254.169.254', 'http://169.254.169.254:80/latest', 'http://0xa9fea9fe', 'http://2852039166', 'http://[::ffff:169.254.169.254]',
      'http://[fe80::1]', 'http://metadata.google.internal', 'http://METADATA.google.internal.', 'http://[fd00:ec2::254]', 'http://0.0.0.0:6379',
    ]) {
      const put = await setControl(r, mac, { url, username: 'admin', password: 'admin' });
      assert.equal(put.status, 400, url);
      assert.match(put.body.error, /^"url" refused: .*never go there/, url);
    }
    assert.equal((await r.api(`/api/v1/phones/${mac}/control`)).body.url, null);
    // Outside the default networks: a public address.
    assert.match((await setControl(r, mac, { url: 'http://8.8.8.8' })).body.error, /outside the networks phones may be controlled in \(--control-networks 10\.0\.0\.0\/8,/);
  });

  test('with --control-networks, a name resolving outside them is refused when connecting, and an open port looks like a closed one', async () => {
    const open = await recorder('127.0.0.1');
    const closed = await recorder('127.0.0.1');
    await closed.close();
    const r = await receiver({ controlNetworks: '10.0.0.0/8' });
    assert.match((await setControl(r, '001565000043', { url: `http://127.0.0.1:${open.port}` })).body.error, /127\.0\.0\.1 is outside the networks .*--control-networks 10\.0\.0\.0\/8/);
    const reasons: string[] = [];
    for (const [mac, port] of [['001565000044', open.port], ['001565000045', closed.port]] as const) {
      assert.equal((await setControl(r, mac, { url: `http://localhost:${port}`, vendor: 'yealink', username: 'admin', password: 'Pw-77ab' })).status, 200);
      const sent = await command(r, mac, { command: 'dnd_on' });
      assert.equal(sent.status, 202);
      const out = await finished(r, sent.body.id);
      assert.equal(out.status, 'failed');
      reasons.push(out.reason.replace(String(port), 'PORT'));
    }
    assert.match(reasons[0], /^the control address http:\/\/localhost:PORT is refused: localhost resolves to [^ ]+, and [^ ]+ is outside the networks/);
    assert.equal(reasons[0], reasons[1], 'the answer says nothing about whether the port is open');
    await settle();
    assert.deepEqual(open.arrived, [], 'nothing was connected');
  });

  test('a bad --control-networks or --control-from-source stops the start with one line', async () => {
    await assert.rejects(receiver({ controlNetworks: '10.0.0.0/33' }), /--control-networks: "10\.0\.0\.0\/33": prefix length/);
    await assert.rejects(receiver({ controlFromSource: 'lan' }), /--control-from-source: "lan" is not an address/);
  });
});
