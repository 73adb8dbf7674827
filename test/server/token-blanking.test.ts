/**
 * Tokens of every kind are blanked wherever an event is kept or forwarded. A sender (a phone set up wrong,
 * or someone fishing) puts the ingest token and the admin token into other parameters (`local=<token>`),
 * under token-like names in odd spellings (`Access-Token`, `ACCESS_TOKEN`, `access%5Ftoken`), and inside a
 * display name. None of them may come out: not in the event's `vars`, `extra` or raw target from the API,
 * not in the phone's state, a CSV or JSON-lines export, a webhook, or on MQTT.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestReceiver } from './helpers/receiver.ts';
import { useMosquitto, watch } from '../forwarding/helpers/mqtt-watch.ts';
import { describeEachStore } from '../stores.ts';

const INGEST = 'Ingest-4b7e91c2';
const ADMIN = 'Admin-d2f08a6b5c';
const OTHER = 'hunter2-never-shown';
const MAC = '001565aa0017';

const broker = useMosquitto('actionurl-blank-');

describeEachStore('tokens never come out of a stored or forwarded event', { timeout: 120_000 }, (store) => {
  test('vars, extra, raw, phone state, exports, webhook and MQTT hold none of them', async () => {
    const hooks: string[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooks.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    after(() => new Promise<void>((r) => hook.close(() => r())));
    const w = await watch(broker.url(), ['blank/#']);
    after(() => w.close());
    const r = await startTestReceiver({
      storeKind: store,
      token: INGEST, adminToken: ADMIN,
      webhook: [`http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`], webhookSecret: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      mqtt: { url: broker.url(), prefix: 'blank', discoveryPrefix: null },
    });
    after(() => r.cleanup());
    const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
    const targets = [
      `/actionurl/incoming_call?mac=${MAC}&token=${INGEST}&local=${INGEST}&access_token=${ADMIN}&call_id=c1&display_remote=Ann%20${ADMIN}%20Lee&remote=3001`,
      `/actionurl/call_established?mac=${MAC}&token=${INGEST}&Access-Token=${OTHER}&call_id=c1`,
      `/actionurl/call_terminated?mac=${MAC}&token=${INGEST}&ACCESS_TOKEN=${OTHER}&access%5Ftoken=${OTHER}&api_key=${OTHER}&x=${encodeURIComponent(encodeURIComponent(ADMIN))}&call_id=c1`,
      `/actionurl/dnd_on?mac=${MAC}&token=${INGEST}&Password=${OTHER}&${INGEST}=1`,
    ];
    for (const t of targets) assert.equal((await r.ingest(t)).status, 200, t);
    const deadline = Date.now() + 10_000;
    while ((hooks.length < targets.length || !w.messages.some((m) => m.topic.endsWith('/event') || m.topic.includes('/event'))) && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(hooks.length >= targets.length, 'every event was forwarded to the webhook');

    const outputs: [string, string][] = [
      ['events', JSON.stringify((await r.api(`/api/v1/events?mac=${MAC}`, auth)).body)],
      ['phone', JSON.stringify((await r.api(`/api/v1/phones/${MAC}`, auth)).body)],
      ['calls', JSON.stringify((await r.api(`/api/v1/calls?mac=${MAC}`, auth)).body)],
      ['csv export', (await r.api(`/api/v1/events?mac=${MAC}&format=csv`, auth)).body],
      ['jsonl export', (await r.api(`/api/v1/events?mac=${MAC}&format=jsonl`, auth)).body],
      ...hooks.map((h, i) => [`webhook ${i}`, h] as [string, string]),
      ...w.messages.map((m) => [`MQTT ${m.topic}`, m.text] as [string, string]),
    ];
    const events = JSON.parse(outputs[0][1]).events as { vars: Record<string, string>; extra: Record<string, string>; raw: string }[];
    assert.equal(events.length, targets.length);
    const leaks: string[] = [];
    for (const [where, text] of outputs) {
      for (const secret of [INGEST, ADMIN, OTHER, encodeURIComponent(ADMIN)]) if (text.includes(secret)) leaks.push(`${where} holds ${secret}: ${text.slice(0, 300)}`);
    }
    assert.deepEqual(leaks, []);
    // What is blanked is blanked, not dropped: the fields are there, the rest of the display name too.
    const incoming = events.find((e) => e.vars.call_id === 'c1' && e.vars.display_remote !== undefined)!;
    assert.equal(incoming.vars.display_remote, 'Ann *** Lee');
    assert.equal(incoming.vars.local, '***');
    assert.equal(incoming.extra.access_token, '***');
    assert.ok(w.messages.some((m) => m.topic.startsWith(`blank/${MAC}`)), 'MQTT carried the phone\'s messages');
  });
});
