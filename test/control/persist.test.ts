/**
 * Commands kept in the store: a command's outcome is still there after the receiver restarted, and a command
 * the receiver could not conclude (it stopped, or it was killed) is failed with a reason that says so,
 * never left `sent` for ever.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { command, finished, receiver, run, setControl, virtualPhone } from './helpers.ts';

/** A phone web server that takes the connection and never answers. */
async function silentPhone(): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('commands kept in the store', { timeout: 120_000 }, () => {
  test('a confirmed command is still there, as it ended, after a restart', async () => {
    const r = await receiver();
    const { web, mac } = await virtualPhone(r, 'yealink');
    await setControl(r, mac, { url: web.url, username: 'admin', password: 'admin' });
    const out = await run(r, mac, { command: 'dial', number: '2001' });
    assert.equal(out.status, 'confirmed', out.reason);
    await r.stop();
    const again = await startTestReceiver({}, r.dir);
    after(() => again.stop());
    const got = await again.api(`/api/v1/commands/${out.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, out);
    const list = await again.api(`/api/v1/phones/${mac}/commands`);
    assert.deepEqual(list.body.commands.map((c: { id: string }) => c.id), [out.id]);
    assert.equal((await again.api('/api/v1/commands/00000000-0000-0000-0000-000000000000')).status, 404);
  });

  test('a receiver stopping with a command in flight fails it saying so; the outcome is stored', async () => {
    const r = await receiver({ commandTimeoutMs: 60_000, commandSendTimeoutMs: 60_000 });
    const mac = '001565000042';
    await setControl(r, mac, { url: await silentPhone(), vendor: 'yealink', username: 'admin', password: 'admin' });
    const sent = await command(r, mac, { command: 'dnd_on' });
    assert.equal(sent.status, 202);
    assert.equal((await r.api(`/api/v1/commands/${sent.body.id}`)).body.status, 'sent');
    await r.stop();
    const again = await startTestReceiver({}, r.dir);
    after(() => again.stop());
    const got = await finished(again, sent.body.id);
    assert.equal(got.status, 'failed');
    assert.match(got.reason, /the receiver stopped before the phone confirmed the command/);
  });

  test('a command a killed receiver left unfinished is failed at the next start', async () => {
    const r = await receiver();
    await r.stop();
    // What a receiver killed mid-command leaves: the row as it was written when the command went out.
    const store = await openStore(join(r.dir, 'db.sqlite'));
    await store.putCommands([{
      id: 'left-behind', mac: '001565000043', command: 'hangup', number: null, keys: null, vendor: 'yealink', status: 'accepted',
      reason: null, createdAt: Date.now() - 1000, acceptedAt: Date.now() - 900, finishedAt: null, confirmedBy: null,
      deadlineAt: Date.now() + 9000, owner: 'a-previous-run',
    }]);
    await store.close();
    const again = await startTestReceiver({}, r.dir);
    after(() => again.stop());
    const got = (await again.api('/api/v1/commands/left-behind')).body;
    assert.equal(got.status, 'failed');
    assert.match(got.reason, /the receiver that sent this command stopped before it concluded; whether the phone did it is unknown/);
    assert.equal(got.accepted_at !== null, true);
  });
});
