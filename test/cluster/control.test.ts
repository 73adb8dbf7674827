/**
 * Remote control with two receivers on one PostgreSQL: the command is issued on A, the phone's Action URL
 * reaches B. A confirms it from B's event (through its follower), B answers for A's command from the store,
 * and an event B stored before the command went out does not confirm it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { virtualPhone } from '../control/helpers.ts';
import { dbUrl, ingest, startReceivers, useClusterDatabase } from './fixture.ts';

const database = useClusterDatabase();

async function api(base: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, body === undefined ? {} : {
    method: path.endsWith('/control') ? 'PUT' : 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('a command issued on A is confirmed by the phone\'s Action URL to B, and B answers for it', { timeout: 90_000 }, async () => {
  const schema = database.schema();
  const cluster = await startReceivers(2, dbUrl(schema));
  after(() => cluster.close());
  const [a, b] = cluster.servers;
  const { phone, web } = await virtualPhone({ server: b }, 'snom');
  assert.equal((await api(a.url, `/api/v1/phones/${phone.mac}/control`, { url: web.url, username: 'admin', password: 'admin' })).status, 200);

  const sent = await api(a.url, `/api/v1/phones/${phone.mac}/commands`, { command: 'dial', number: '2001' });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  // Asked on B, which did not send it: B reads it from the store until it is final.
  const onB = (await api(b.url, `/api/v1/commands/${sent.body.id}?wait=15`)).body;
  assert.equal(onB.status, 'confirmed', onB.reason);
  assert.equal(onB.confirmed_by.incident, 'outgoing_call');
  const event = (await api(b.url, `/api/v1/events?mac=${phone.mac}&incident=outgoing_call`)).body.events[0];
  assert.equal(onB.confirmed_by.event_id, event.id);
  assert.deepEqual((await api(a.url, `/api/v1/commands/${sent.body.id}`)).body, onB);
  assert.deepEqual((await api(b.url, `/api/v1/phones/${phone.mac}/commands`)).body.commands.map((c: { id: string }) => c.id), [sent.body.id]);
});

test('an event B stored before the command went out does not confirm it', { timeout: 90_000 }, async () => {
  const schema = database.schema();
  const cluster = await startReceivers(2, dbUrl(schema), { commandTimeoutMs: 2_500 });
  after(() => cluster.close());
  const [a, b] = cluster.servers;
  // A phone whose control endpoint takes the request and never answers: only an event could confirm.
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
  after(() => {
    silent.close();
  });
  const mac = '000413c0ffee';
  assert.equal(await ingest(b.port, `/actionurl/registered?mac=${mac}&model=D785`), 200);
  await api(a.url, `/api/v1/phones/${mac}/control`, { url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, username: 'admin', password: 'admin' });
  // The user dialled 2001 themselves, just before someone clicked "dial 2001": B has the event, A may not yet.
  assert.equal(await ingest(b.port, `/actionurl/outgoing_call?mac=${mac}&call_id=1&remote=sip:2001@pbx`), 200);
  const sent = await api(a.url, `/api/v1/phones/${mac}/commands`, { command: 'dial', number: '2001' });
  assert.equal(sent.status, 202);
  const out = (await api(a.url, `/api/v1/commands/${sent.body.id}?wait=15`)).body;
  assert.equal(out.status, 'failed');
  assert.match(out.reason, /no outgoing_call/);
  // A later outgoing call would have confirmed it: the follower did bring B's events to A.
  assert.equal(out.confirmed_by, null);
});
