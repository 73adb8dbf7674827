/**
 * A query parameter an endpoint does not take is refused with 400, naming the ones it does take, instead of
 * being ignored: `?macc=…` (a typo of `mac`) must not answer with every phone's events as if filtered. The
 * names each endpoint takes are read from the receiver's own OpenAPI document, so the document and the
 * endpoints are held to one list.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';

const MACS = ['001565000c01', '001565000c02'];

interface Operation { parameters?: { name: string; in: string }[] }

describe('unknown query parameters', { timeout: 60_000 }, () => {
  let r: TestReceiver;
  /** Every GET path of the API as the OpenAPI document lists it, with the query parameters it documents. */
  let endpoints: { path: string; names: string[] }[];

  before(async () => {
    r = await startTestReceiver();
    for (const mac of MACS) assert.equal((await r.ingest(`/actionurl/registered?mac=${mac}&active_url=sip:201@pbx`)).status, 200);
    const doc = (await r.api('/api/v1/openapi.json')).body as { paths: Record<string, { get?: Operation }> };
    endpoints = Object.entries(doc.paths)
      .filter(([path, item]) => path.startsWith('/api/') && item.get)
      .map(([path, item]) => ({
        // Path parameters filled with something of the right shape: a MAC, a number.
        path: path.replace('{mac}', MACS[0]).replace(/\{[^}]+\}/g, '1'),
        names: (item.get!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      }));
    assert.ok(endpoints.length >= 15, `the document lists the API's GET paths (${endpoints.length})`);
  });
  after(async () => {
    await r.cleanup();
  });

  it('a misspelt filter is refused, not ignored, and the answer names the filters there are', async () => {
    const all = await r.api('/api/v1/events');
    assert.equal(all.status, 200);
    assert.ok(new Set(all.body.events.map((e: { mac: string }) => e.mac)).size > 1, 'two phones have events');

    const typo = await r.api(`/api/v1/events?macc=${MACS[0]}`);
    assert.equal(typo.status, 400);
    assert.match(typo.body.error, /"macc"/);
    for (const name of ['mac', 'incident', 'call_id', 'since', 'until', 'limit', 'before', 'format', 'group']) {
      assert.match(typo.body.error, new RegExp(`\\b${name}\\b`), name);
    }
    const right = await r.api(`/api/v1/events?mac=${MACS[0]}`);
    assert.equal(right.status, 200);
    assert.deepEqual([...new Set(right.body.events.map((e: { mac: string }) => e.mac))], [MACS[0]]);
  });

  it('every GET endpoint refuses a parameter it does not document, and takes each one it does', async () => {
    for (const { path, names } of endpoints) {
      const controller = new AbortController();
      const res = await fetch(`${r.server.url}${path}?macc=1`, { signal: controller.signal });
      const text = await res.text();
      assert.equal(res.status, 400, `${path}?macc=1: ${text.slice(0, 200)}`);
      const error = (JSON.parse(text) as { error: string }).error;
      assert.match(error, /unknown parameter "macc"/, path);
      // Exactly the documented names: none missing, none taken that the document does not tell of.
      const taken = /this path takes (.+)$/.exec(error)?.[1];
      assert.deepEqual(taken === 'no query parameters' ? [] : (taken ?? '').split(', ').sort(), [...names].sort(), `${path}: ${error}`);

      // Each documented name, given empty (as "not set"), is taken.
      const query = names.map((n) => `${n}=`).join('&');
      const ok = await fetch(`${r.server.url}${path}${query ? `?${query}` : ''}`, { signal: controller.signal });
      // The event stream answers with headers first and never ends: the status is all this needs.
      if (ok.headers.get('content-type')?.startsWith('text/event-stream')) controller.abort();
      else {
        const body = await ok.text();
        assert.doesNotMatch(body, /unknown parameter/, `${path}?${query}`);
        assert.notEqual(ok.status, 400, `${path}?${query}: ${body.slice(0, 200)}`);
      }
    }
  });

  it('the admin token as ?access_token= is taken on every path', async () => {
    const res = await r.api('/api/v1/phones?access_token=whatever&limit=1');
    assert.equal(res.status, 200);
    assert.equal(res.body.phones.length, 1);
  });
});
