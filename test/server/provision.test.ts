import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { chooseVendor } from '../../src/server/provision.ts';
import { getVendorCodec } from '../../src/core/vendors/index.ts';
import { PROVISION_TOKEN_WARNING } from '../../src/start.ts';
import pino from 'pino';

describe('choosing the vendor for a requested file', { timeout: 120_000 }, () => {
  test('file name patterns name the vendor (and the MAC)', () => {
    assert.deepEqual(chooseVendor('y000000000000.cfg', undefined), { vendor: 'yealink' });
    assert.deepEqual(chooseVendor('r000000000000.cfg', undefined), { vendor: 'akuvox' });
    assert.deepEqual(chooseVendor('cfg001565aabbcc.xml', undefined), { vendor: 'grandstream', mac: '001565aabbcc' });
    assert.deepEqual(chooseVendor('000413AABBCC.xml', undefined), { vendor: 'snom', mac: '000413aabbcc' });
    assert.deepEqual(chooseVendor('001565aabbcc.cfg', undefined), { vendor: 'yealink', mac: '001565aabbcc' });
    assert.equal(chooseVendor('passwords.txt', undefined), undefined);
  });

  test('a shared name (<mac>.cfg) is decided by the User-Agent, and ?vendor= overrides everything', () => {
    assert.equal(chooseVendor('0c383e112233.cfg', 'Fanvil X4U 2.12.1 0c:38:3e:11:22:33')?.vendor, 'fanvil');
    assert.equal(chooseVendor('0c110599aabb.cfg', 'Akuvox R15P')?.vendor, 'akuvox');
    assert.deepEqual(chooseVendor('001565aabbcc.cfg', 'Yealink SIP-T46S', 'fanvil'), { vendor: 'fanvil', mac: '001565aabbcc' });
  });
});

describe('GET /provision/<file>', { timeout: 120_000 }, () => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ token: 'tok3n' });
  });
  after(() => r.cleanup());

  test('the Yealink common file points every incident at this server, with the token', async () => {
    const { responses } = await sendRaw(r.port, 'GET /provision/y000000000000.cfg HTTP/1.1\r\nHost: pbx.example:8080\r\nConnection: close\r\n\r\n');
    assert.equal(responses[0].status, 200);
    assert.match(responses[0].headers['content-type'], /text\/plain/);
    const read = getVendorCodec('yealink').read(responses[0].body.toString());
    assert.equal(read.error, undefined);
    const urls = Object.values(read.config.urls);
    assert.ok(urls.length >= 30);
    for (const url of urls) {
      assert.ok(url.startsWith('http://pbx.example:8080/actionurl/'), url);
      assert.match(url, /mac=\$mac/);
      assert.match(url, /token=tok3n/);
    }
  });

  test('a Grandstream phone gets XML, a Fanvil phone its own format', async () => {
    const gs = await r.api('/provision/cfg001565aabbcc.xml');
    assert.equal(gs.status, 200);
    assert.match(gs.headers.get('content-type') ?? '', /xml/);
    assert.match(gs.body, /<gs_provision/);
    const fanvil = await r.api('/provision/0c383e112233.cfg', { headers: { 'User-Agent': 'Fanvil X4U' } });
    assert.match(fanvil.body, /^<<VOIP CONFIG FILE>>/);
  });

  test('without a Host header (HTTP/1.0) the URLs use the address the phone connected to', async () => {
    const { responses } = await sendRaw(r.port, 'GET /provision/y000000000000.cfg HTTP/1.0\r\n\r\n');
    assert.equal(responses[0].status, 200);
    assert.match(responses[0].body.toString(), new RegExp(`http://127\\.0\\.0\\.1:${r.port}/actionurl/registered\\?`));
  });

  test('an unknown file name is a 404 and an unknown vendor a 400, as JSON', async () => {
    const missing = await r.api('/provision/secrets.txt');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /<mac>\.cfg/);
    assert.equal((await r.api('/provision/y000000000000.cfg?vendor=acme')).status, 400);
  });
});

test('--public-url decides the URLs in provisioned files', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ publicUrl: 'https://phones.example.com/recv/' });
  try {
    const { body } = await r.api('/provision/001565aabbcc.cfg');
    assert.match(body, /https:\/\/phones\.example\.com\/recv\/actionurl\/incoming_call\?/);
  } finally {
    await r.cleanup();
  }
});

describe('the ingest token in config files', { timeout: 120_000 }, () => {
  /** Starts a receiver with a logger that keeps its lines; returns the warnings logged at start. */
  async function startupWarnings(options: { token?: string; allow?: string }): Promise<string[]> {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const r = await startTestReceiver({ ...options, logger });
    try {
      return lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => l.msg as string);
    } finally {
      await r.cleanup();
    }
  }

  test('--token without --allow: a warning at start-up says anyone can fetch the token from /provision', async () => {
    assert.deepEqual(await startupWarnings({ token: 'tok3n' }), [PROVISION_TOKEN_WARNING]);
    assert.match(PROVISION_TOKEN_WARNING, /anyone who can reach \/provision.*ingest token.*--allow/);
  });

  test('no warning with --allow, or without a token', async () => {
    assert.deepEqual(await startupWarnings({ token: 'tok3n', allow: '127.0.0.0/8' }), []);
    assert.deepEqual(await startupWarnings({}), []);
  });

  test('with --allow, a source outside it gets no file (and no token)', async () => {
    const r = await startTestReceiver({ token: 'tok3n', allow: '10.0.0.0/8' });
    try {
      const res = await r.api('/provision/y000000000000.cfg');
      assert.equal(res.status, 403);
      assert.ok(!JSON.stringify(res.body).includes('tok3n'));
    } finally {
      await r.cleanup();
    }
  });
});
