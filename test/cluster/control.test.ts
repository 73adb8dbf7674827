/**
 * Remote control with two receivers on one PostgreSQL: the command is issued on A, the phone's Action URL
 * reaches B. A confirms it from B's event (through its follower), B answers for A's command from the store,
 * and an event B stored before the command went out does not confirm it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
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

test('an address approved on A reaches B, and a removal too: B neither refuses it as unapproved nor keeps an old one', { timeout: 90_000 }, async () => {
  const schema = database.schema();
  // One control key for both, as docs/control.md says: B opens the credentials A sealed.
  const cluster = await startReceivers(2, dbUrl(schema), { controlKey: randomBytes(32).toString('hex') });
  after(() => cluster.close());
  const [a, b] = cluster.servers;
  const { phone, web } = await virtualPhone({ server: b }, 'yealink');
  const onB = async (until: (v: any) => boolean) => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const v = (await api(b.url, `/api/v1/phones/${phone.mac}/control`)).body;
      if (until(v)) return v;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('B never saw the change');
  };
  assert.equal((await api(a.url, `/api/v1/phones/${phone.mac}/control`, { url: web.url, username: 'admin', password: 'admin' })).status, 200);
  const seen = await onB((v) => v.url === web.url);
  assert.equal(seen.credentials, 'set');
  // A command through B goes to the address A approved, with the credentials A set.
  const sent = await api(b.url, `/api/v1/phones/${phone.mac}/commands`, { command: 'dnd_on' });
  assert.equal(sent.status, 202);
  assert.equal((await api(b.url, `/api/v1/commands/${sent.body.id}?wait=15`)).body.status, 'confirmed');
  const gone = await fetch(`${a.url}/api/v1/phones/${phone.mac}/control`, { method: 'DELETE' });
  assert.equal(gone.status, 204);
  await onB((v) => v.url === null);
});
