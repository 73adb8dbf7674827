/**
 * No credential in any output: a "phone" that echoes the whole request back (request line, every header,
 * percent-decoded, HTML-escaped and JSON-escaped) in its answer, as a 404 page or a debug page does. The
 * command's reason, the log, the commands table (the database file itself) and the MQTT result topic must
 * hold none of the credentials that were sent: Grandstream's passcode, Basic user and password, a Digest
 * answer.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pino from 'pino';
import { command, finished, receiver, run, setControl, storedFiles, virtualPhone } from './helpers.ts';
import { useMosquitto, watch } from '../forwarding/helpers/mqtt-watch.ts';

const USER = 'deskadmin-7f3e';
// Characters that every encoding spells differently: space, &, =, <, ", ', %, +, non-ASCII.
const PASSWORD = 'Pw 9&c=<"x\'>%+é';

function htmlEscape(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

type Spelling = 'raw' | 'decoded' | 'html' | 'json' | 'basic';

/**
 * Answers every request with `status` and a body that repeats the request in every spelling, `first` first
 * (the receiver quotes the start of an answer).
 */
async function echoPhone(status: number, first: Spelling, challenge?: string): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const head = `${req.method} ${req.url} HTTP/1.1\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`;
    let decoded = head;
    try {
      decoded = decodeURIComponent(head.replace(/\+/g, ' '));
    } catch {
      // keep it raw
    }
    seen.push(head);
    const auth = req.headers.authorization ?? '';
    const basic = /^Basic (.+)$/.exec(auth);
    const spelled: Record<Spelling, string> = {
      raw: `Not Found: ${head}`,
      decoded: `decoded: ${decoded}`,
      html: `<pre>${htmlEscape(decoded)}</pre>`,
      json: JSON.stringify({ echo: decoded }),
      basic: basic ? `basic: ${Buffer.from(basic[1], 'base64').toString('utf8')}` : `no basic: ${decoded}`,
    };
    const body = [spelled[first], ...Object.values(spelled)].join('\n');
    const challenged = challenge && !auth.startsWith('Digest');
    res.writeHead(challenged ? 401 : status, { 'Content-Type': 'text/html', ...(challenged ? { 'WWW-Authenticate': challenge } : {}) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

// Whole spellings and the starts of them (a quote cut short still gives a piece away).
const FORMS = [PASSWORD, encodeURIComponent(PASSWORD), htmlEscape(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1), USER,
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64').slice(0, 12), 'Pw 9', 'Pw%209', 'Pw+9', 'deskadmin'];

/** Every leak found, so one run shows each place and spelling at once. */
const leaks: string[] = [];

function assertClean(text: string, where: string): void {
  for (const f of FORMS) if (text.includes(f)) leaks.push(`${where} holds ${JSON.stringify(f)}: ${text.slice(0, 300)}`);
}

const broker = useMosquitto('actionurl-echo-');

describe('credentials echoed by the phone never come out', { timeout: 180_000 }, () => {
  const cases = [
    { vendor: 'grandstream', status: 404, first: 'raw', mac: '000b82000101', what: 'Grandstream passcode in the URL, echoed by a 404 page' },
    { vendor: 'grandstream', status: 404, first: 'decoded', mac: '000b82000102', what: 'the passcode decoded' },
    { vendor: 'grandstream', status: 403, first: 'html', mac: '000b82000103', what: 'the passcode HTML-escaped' },
    { vendor: 'grandstream', status: 200, first: 'json', mac: '000b82000104', what: 'a Grandstream answer that is not its JSON' },
    { vendor: 'yealink', status: 403, first: 'raw', mac: '001565000105', what: 'the Basic header, echoed by a 403 page' },
    { vendor: 'yealink', status: 404, first: 'basic', mac: '001565000106', what: 'Basic user and password decoded' },
    { vendor: 'fanvil', status: 500, first: 'decoded', mac: '0c383e000107', what: 'a 500 page' },
    {
      vendor: 'snom', status: 404, first: 'raw', mac: '000413000108', what: 'a Digest answer, echoed by a 404 page',
      challenge: 'Digest realm="phone", nonce="abc123", qop="auth", algorithm=SHA-256',
    },
  ] as const;

  test('reason, log, commands table and MQTT result topic hold none of them', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
    const prefix = 'echo';
    const w = await watch(broker.url(), [`${prefix}/#`]);
    after(() => w.close());
    const r = await receiver({ logger, mqtt: { url: broker.url(), prefix, discoveryPrefix: null }, commandTimeoutMs: 1_000 });
    await w.waitFor((m) => m.topic === `${prefix}/bridge/availability` && m.text === 'online');
    for (const c of cases) {
      const phone = await echoPhone(c.status, c.first, 'challenge' in c ? c.challenge : undefined);
      assert.equal((await setControl(r, c.mac, { url: phone.url, vendor: c.vendor, username: USER, password: PASSWORD })).status, 200);
      const sent = await command(r, c.mac, { command: 'dnd_on' });
      assert.equal(sent.status, 202, c.what);
      const out = await finished(r, sent.body.id);
      assert.ok(phone.seen.length > 0, `${c.what}: the phone got the request`);
      // The phone really was sent the secret (so an echo of it would have leaked).
      assert.ok(phone.seen.some((s) => /passcode=|Authorization|authorization/i.test(s)), `${c.what}: ${phone.seen.join(' | ')}`);
      assert.equal(out.status, 'failed', c.what);
      assert.ok(out.reason, c.what);
      assertClean(out.reason, `${c.what}: the reason`);
      assertClean(JSON.stringify((await r.api(`/api/v1/phones/${c.mac}/commands`)).body), `${c.what}: GET commands`);
      // The MQTT result topic (the API's command JSON, each step).
      await w.client.publishAsync(`${prefix}/${c.mac}/command/dnd_on`, 'PRESS', { qos: 1 });
      const final = await w.waitFor((m) => m.topic === `${prefix}/${c.mac}/command/result` && /"status":"failed"/.test(m.text), 10_000);
      assertClean(final.text, `${c.what}: MQTT result`);
    }
    for (const m of w.messages) assertClean(m.text, `MQTT ${m.topic}`);
    assertClean(lines.join('\n'), 'the log');
    assert.ok(lines.some((l) => l.includes('remote-control command failed')));
    await r.stop();
    for (const [f, bytes] of storedFiles(r)) {
      for (const form of FORMS) if (bytes.includes(Buffer.from(form, 'utf8'))) leaks.push(`${f} holds ${JSON.stringify(form)}`);
    }
    assert.deepEqual(leaks, []);
  });
});

describe('scrubbing never changes what the answer means', { timeout: 60_000 }, () => {
  test('a Grandstream password "success" still reads {"response":"success"} as success', async () => {
    const r = await receiver();
    const { phone, web, mac } = await virtualPhone(r, 'grandstream', { password: 'success' });
    assert.equal((await setControl(r, mac, { url: web.url, username: 'admin', password: 'success' })).status, 200);
    const out = await run(r, mac, { command: 'dnd_on' });
    assert.equal(out.status, 'confirmed', out.reason);
    assert.equal(phone.state.dnd, true);
  });
});
