/** Per-phone ingest tokens (`--token-secret`): ingest, provisioning, redaction, start-up warning. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { phoneToken } from '../../src/core/phone-token.ts';
import { getVendorCodec } from '../../src/core/vendors/index.ts';
import { PROVISION_TOKEN_SECRET_WARNING } from '../../src/start.ts';

const SECRET = 'per-phone-s3cret';
const MAC = '00:15:65:AA:BB:CC';
const mac = '001565aabbcc';
const other = '0c383e112233';
const mine = phoneToken(SECRET, mac);
const theirs = phoneToken(SECRET, other);

describe('ingest with --token-secret', { timeout: 120_000 }, () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ tokenSecret: SECRET });
  });
  after(() => r.cleanup());

  test('a phone\'s own token is accepted, whatever spelling of the MAC it sends', async () => {
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=${mine}`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/dnd_off?mac=${MAC}&token=${mine}`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/registered?mac=${other}&token=${theirs}`)).status, 200);
    const events = (await r.api(`/api/v1/events?mac=${mac}`)).body.events;
    assert.deepEqual(events.map((e: { incident: string }) => e.incident), ['dnd_off', 'dnd_on']);
    for (const e of events) {
      assert.ok(!e.raw.includes(mine), e.raw);
      assert.equal(e.extra.token, undefined);
    }
  });

  test('another phone\'s token, a missing one and the secret itself get 403 and are kept as rejected, blanked', async () => {
    const before = (await r.api('/api/v1/rejected')).body.rejected.length;
    const forged = await r.ingest(`/actionurl/incoming_call?mac=${mac}&token=${theirs}`);
    assert.equal(forged.status, 403);
    assert.equal(forged.body.toString(), `wrong token for phone ${mac}\n`);
    const missing = await r.ingest(`/actionurl/incoming_call?mac=${mac}`);
    assert.equal(missing.status, 403);
    assert.match(missing.body.toString(), /^missing token: add token=<this phone's ingest token> to the URL\n$/);
    assert.equal((await r.ingest(`/actionurl/incoming_call?mac=${mac}&token=${SECRET}`)).status, 403);
    const noMac = await r.ingest(`/actionurl/incoming_call?token=${mine}`);
    assert.equal(noMac.status, 403);
    assert.match(noMac.body.toString(), /^wrong token: .*no valid mac\n$/);

    const rejected = (await r.api('/api/v1/rejected')).body.rejected;
    assert.equal(rejected.length - before, 4);
    assert.deepEqual(rejected.slice(0, 4).map((x: { status: number; reason: string; raw: string }) => [x.status, x.reason, x.raw]), [
      [403, noMac.body.toString().trim(), '/actionurl/incoming_call?token=***'],
      [403, `wrong token for phone ${mac}`, `/actionurl/incoming_call?mac=${mac}&token=***`],
      [403, missing.body.toString().trim(), `/actionurl/incoming_call?mac=${mac}`],
      [403, `wrong token for phone ${mac}`, `/actionurl/incoming_call?mac=${mac}&token=***`],
    ]);
    assert.equal((await r.api(`/api/v1/events?incident=incoming_call`)).body.events.length, 0);
  });

  test('the phone\'s derived token and the secret are blanked however they were encoded', async () => {
    const encoded = [...mine].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    assert.equal((await r.ingest(`/actionurl/hold?mac=${mac}&token=${encoded}&note=${mine}`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/unhold?token%3D${mine}&mac=${mac}`)).status, 403);
    assert.equal((await r.ingest(`/actionurl/unhold?mac=${mac}&token=${mine}&note=${SECRET}`)).status, 200);
    const events = (await r.api(`/api/v1/events?mac=${mac}&limit=2`)).body.events;
    assert.deepEqual(events.map((e: { raw: string }) => e.raw), [
      `/actionurl/unhold?mac=${mac}&token=***&note=***`,
      `/actionurl/hold?mac=${mac}&token=***&note=***`,
    ]);
    const rejected = (await r.api('/api/v1/rejected?limit=1')).body.rejected;
    assert.equal(rejected[0].raw, `/actionurl/unhold?token%3D***&mac=${mac}`);
  });
});

test('with --token-secret and --token, either the phone\'s own token or the shared one is accepted', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ tokenSecret: SECRET, token: 'shared-t0ken' });
  try {
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=${mine}`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=shared-t0ken`)).status, 200);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}&token=${theirs}`)).status, 403);
    assert.equal((await r.ingest(`/actionurl/dnd_on?mac=${mac}`)).status, 403);
  } finally {
    await r.cleanup();
  }
});

describe('provisioning with --token-secret', { timeout: 120_000 }, () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ tokenSecret: SECRET });
  });
  after(() => r.cleanup());

  const urlsOf = (vendor: 'yealink' | 'grandstream' | 'snom', text: string) => {
    const read = getVendorCodec(vendor).read(text);
    assert.equal(read.error, undefined);
    const urls = Object.values(read.config.urls);
    assert.ok(urls.length >= 15);
    return urls;
  };

  test('a file named for a MAC carries that phone\'s own token, in every vendor\'s naming', async () => {
    const files: ['yealink' | 'grandstream' | 'snom', string, string][] = [
      ['yealink', `/provision/${mac}.cfg`, mine],
      ['yealink', `/provision/${other}.cfg`, theirs],
      ['grandstream', `/provision/cfg${mac}.xml`, mine],
      ['snom', '/provision/001565AABBCC.xml', mine],
    ];
    for (const [vendor, path, token] of files) {
      const res = await r.api(path);
      assert.equal(res.status, 200, path);
      for (const url of urlsOf(vendor, res.body)) assert.ok(url.includes(`token=${token}`), `${path}: ${url}`);
    }
  });

  test('a common file (no MAC) is a 404 telling the admin to provision per MAC', async () => {
    for (const name of ['y000000000000.cfg', 'r000000000000.cfg']) {
      const res = await r.api(`/provision/${name}`);
      assert.equal(res.status, 404, name);
      assert.match(res.body.error, /--token-secret.*provision per MAC.*--token/);
      assert.equal(res.body.error.split('\n').length, 1);
    }
  });

  test('with --token as well, a common file carries the shared token and MAC files the phone\'s own', async () => {
    const both = await startTestReceiver({ tokenSecret: SECRET, token: 'shared-t0ken' });
    try {
      const common = await both.api('/provision/y000000000000.cfg');
      assert.equal(common.status, 200);
      for (const url of urlsOf('yealink', common.body)) assert.ok(url.includes('token=shared-t0ken'), url);
      const own = await both.api(`/provision/${mac}.cfg`);
      for (const url of urlsOf('yealink', own.body)) assert.ok(url.includes(`token=${mine}`), url);
    } finally {
      await both.cleanup();
    }
  });

  test('a provisioned phone\'s URL is accepted as sent', async () => {
    const { body } = await r.api(`/provision/${mac}.cfg`);
    const url = urlsOf('yealink', body).find((u) => u.includes('/actionurl/registered?'))!;
    const target = new URL(url).pathname + new URL(url).search;
    const sent = target.replace('$mac', MAC).replace(/\$[a-z_]+/g, 'x');
    assert.equal((await r.ingest(sent)).status, 200, sent);
  });
});

test('--token-secret without --allow: a warning at start-up; none with --allow', { timeout: 60_000 }, async () => {
  const warnings = async (options: { allow?: string }) => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const r = await startTestReceiver({ tokenSecret: SECRET, ...options, logger });
    await r.cleanup();
    return lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => l.msg as string);
  };
  assert.deepEqual(await warnings({}), [PROVISION_TOKEN_SECRET_WARNING]);
  assert.deepEqual(await warnings({ allow: '127.0.0.0/8' }), []);
});

test('HTTP/1.0 phone with its own token', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ tokenSecret: SECRET });
  try {
    const { responses } = await sendRaw(r.port, `GET /actionurl/registered?mac=${mac}&token=${mine} HTTP/1.0\r\n\r\n`);
    assert.equal(responses[0].status, 200);
  } finally {
    await r.cleanup();
  }
});
