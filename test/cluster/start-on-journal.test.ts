/**
 * A receiver on PostgreSQL restarted while the database is down starts on its local journal when it has
 * reached PostgreSQL with that journal before: phones are answered (and refused) as usual, their requests
 * are kept, `/healthz` says why, the dashboard and API say "starting"; once PostgreSQL is back the kept
 * requests are stored in the order and with the time they came, refusals kept for the record, and the
 * receiver goes on as if it had never been away. A journal that never reached PostgreSQL starts nothing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/start.ts';
import { StoreUnreachableError } from '../../src/store/open.ts';
import { freePort } from '../forwarding/helpers/mqtt-watch.ts';
import { ingest, waitUntil } from './fixture.ts';
import { spawnServe, type ServeChild } from '../server/helpers/child.ts';
import { startOwnPostgres, type OwnPostgres } from './own-postgres.ts';

const own = await startOwnPostgres();
const skip = own ? false : 'no PostgreSQL server binaries here';
const TOKEN = 'ingest-token-for-journal-start';
const dir = mkdtempSync(join(tmpdir(), 'actionurl-start-on-journal-'));
const PHONE = '001565000a01';
const NEW_PHONE = '001565000a02';

after(async () => {
  await own?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const options = (schema: string, journal: string) => ({
  db: `${own!.url}?schema=${schema}`, journal, port: 0, host: '127.0.0.1', logLevel: 'silent' as const,
  token: TOKEN, startRetryMs: 100, dbTimeoutMs: 1000,
});

async function api(server: RunningServer, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

const event = (incident: string, mac: string, seq: string) => `/actionurl/${incident}?mac=${mac}&token=${TOKEN}&seq=${seq}&display_remote=J%C3%B6rg`;

test('restarted while PostgreSQL is down: phones are answered from the journal, and everything kept is stored in order, with its own time, once it is back', { timeout: 120_000, skip }, async () => {
  const pgServer: OwnPostgres = own!;
  const journal = join(dir, 'journal-a.sqlite');
  const first = await startServer(options('soj_a', journal));
  try {
    assert.equal(first.starting, false);
    for (const seq of ['1', '2']) assert.equal(await ingest(first.port, event('incoming_call', PHONE, seq)), 200);
  } finally {
    await first.close();
  }
  assert.equal(statSync(journal).mode & 0o077, 0, 'the journal keeps requests as they came, tokens included: its owner alone may read it');

  await pgServer.halt();
  let server: RunningServer | undefined;
  let resumedAt = 0;
  try {
    server = await startServer(options('soj_a', journal));
    assert.equal(server.starting, true, 'started on its journal instead of refusing to start');
    assert.throws(() => server!.ctx, /still starting on its local journal/);

    const sentFrom = Date.now();
    for (const [incident, seq] of [['call_established', '3'], ['call_terminated', '4']]) assert.equal(await ingest(server.port, event(incident, PHONE, seq)), 200);
    assert.equal(await ingest(server.port, event('registered', NEW_PHONE, '5')), 200, 'a phone never seen before is answered too');
    assert.equal(await ingest(server.port, `/actionurl/dnd_on?mac=${PHONE}&token=wrong-token-guess`), 403, 'a wrong token is refused as always');
    assert.equal(await ingest(server.port, `/actionurl/dnd_on?token=${TOKEN}`), 400, 'a request without a MAC is refused as always');

    const health = await api(server, '/healthz');
    assert.equal(health.status, 200, 'phones\' events are taken: a load balancer keeps sending them here');
    assert.equal(health.body.status, 'degraded');
    assert.equal(health.body.starting, true);
    assert.equal(health.body.held, 5, 'three events and two refusals kept');
    assert.match(health.body.error, /cannot connect/);

    const events = await api(server, '/api/v1/events');
    assert.equal(events.status, 503);
    assert.match(events.body.error, /starting: .*local journal/);
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 503, 'the dashboard says it is starting');
    assert.equal(page.headers.get('retry-after'), '5');

    resumedAt = Date.now();
    assert.ok(resumedAt >= sentFrom);
    await pgServer.resume();
    await Promise.race([server.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('not ready 30 s after PostgreSQL came back')), 30_000))]);
    assert.equal(server.starting, false);

    const stored = (await api(server, `/api/v1/events?mac=${PHONE}&limit=50`)).body.events as { id: number; incident: string; extra: { seq: string }; received_at: string; raw: string; vars: Record<string, string> }[];
    const oldestFirst = [...stored].sort((a, b) => a.id - b.id);
    assert.deepEqual(oldestFirst.map((e) => e.extra.seq), ['1', '2', '3', '4'], 'the kept events follow the earlier ones, in the order they came');
    for (const e of oldestFirst.slice(2)) {
      const at = Date.parse(e.received_at);
      assert.ok(at >= sentFrom - 1000 && at <= resumedAt, `kept event ${e.extra.seq} has the time it came (${e.received_at}), not the time it was stored`);
      assert.equal(e.vars.display_remote, 'Jörg');
      assert.ok(!e.raw.includes(TOKEN), 'the token is blanked as in any stored event');
    }
    const phone = await api(server, `/api/v1/phones/${NEW_PHONE}`);
    assert.equal(phone.status, 200, 'the new phone is known');
    const calls = (await api(server, `/api/v1/calls?mac=${PHONE}`)).body.calls as { outcome: string }[];
    assert.ok(calls.length >= 1, 'the call reduced from the kept events');

    const rejected = (await api(server, '/api/v1/rejected')).body.rejected as { status: number; reason: string; raw: string; received_at: string }[];
    const wrong = rejected.find((r) => r.status === 403);
    assert.ok(wrong, `the refused wrong token is on record: ${JSON.stringify(rejected)}`);
    assert.equal(wrong!.reason, 'wrong token');
    assert.ok(Date.parse(wrong!.received_at) <= resumedAt);
    assert.ok(rejected.some((r) => r.status === 400), 'the request without a MAC is on record');

    // From now on it is the receiver as always.
    assert.equal(await ingest(server.port, event('dnd_on', PHONE, '6')), 200);
    assert.equal((await api(server, '/healthz')).body.status, 'ok');
    await waitUntil('the new event is listed', async () => (await api(server!, `/api/v1/events?mac=${PHONE}&limit=1`)).body.events[0]?.extra.seq === '6');
  } finally {
    await server?.close();
    if (!resumedAt) await pgServer.resume();
  }
});

test('stopped while still starting on its journal: what it kept is stored at the next start', { timeout: 120_000, skip }, async () => {
  const pgServer: OwnPostgres = own!;
  const journal = join(dir, 'journal-b.sqlite');
  await (await startServer(options('soj_b', journal))).close();
  await pgServer.halt();
  let halted = true;
  try {
    const server = await startServer(options('soj_b', journal));
    assert.equal(server.starting, true);
    assert.equal(await ingest(server.port, event('incoming_call', PHONE, 'kept')), 200);
    const stopping = Date.now();
    await server.close();
    assert.ok(Date.now() - stopping < 10_000, 'closing does not wait for the database');
    await server.ready; // settles: the start was given up

    await pgServer.resume();
    halted = false;
    const again = await startServer(options('soj_b', journal));
    try {
      await again.ready;
      const events = (await api(again, `/api/v1/events?mac=${PHONE}`)).body.events as { extra: { seq: string } }[];
      assert.deepEqual(events.map((e) => e.extra.seq), ['kept']);
    } finally {
      await again.close();
    }
  } finally {
    if (halted) await pgServer.resume();
  }
});

test('a journal that has never reached PostgreSQL does not start a receiver: the start fails as unreachable (exit 75 in serve)', { timeout: 30_000 }, async () => {
  const journal = join(dir, 'journal-new.sqlite');
  const port = await freePort();
  await assert.rejects(
    startServer({ db: `postgres://postgres@127.0.0.1:${port}/test`, journal, port: 0, host: '127.0.0.1', logLevel: 'silent' }),
    (err: unknown) => err instanceof StoreUnreachableError,
  );
  assert.equal(existsSync(journal), false, 'no journal file was made for a database never reached');
});

test('actionurl serve restarted while PostgreSQL is down says it is on its journal, answers phones, and prints its usual banner once the database is back', { timeout: 120_000, skip }, async () => {
  const pgServer: OwnPostgres = own!;
  const journal = join(dir, 'journal-c.sqlite');
  const db = `${pgServer.url}?schema=soj_c`;
  await (await startServer(options('soj_c', journal))).close();
  await pgServer.halt();
  let halted = true;
  let serve: ServeChild | undefined;
  try {
    serve = await spawnServe(['--db', db, '--journal', journal, '--token', TOKEN]);
    assert.match(serve.stdout(), /on its local journal .*journal-c\.sqlite\n {2}PostgreSQL cannot be reached: phones are answered/);
    assert.equal(await ingest(serve.port, event('incoming_call', PHONE, 'cli')), 200);
    await pgServer.resume();
    halted = false;
    await waitUntil('the usual banner', () => /phones send: /.test(serve!.stdout()), 30_000);
    const events = (await (await fetch(`${serve.url}/api/v1/events?mac=${PHONE}`)).json()) as { events: { extra: { seq: string } }[] };
    assert.deepEqual(events.events.map((e) => e.extra.seq), ['cli']);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
  } finally {
    if (serve?.child.exitCode === null) serve.child.kill('SIGKILL');
    if (halted) await pgServer.resume();
  }
});
