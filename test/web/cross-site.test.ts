/**
 * A web page the administrator happens to open, in a real browser on the receiver's machine (where the
 * dashboard needs no sign-in), tries every change it can send to the receiver: an auto-submitted form and
 * no-cors fetches, from another site (`localhost` is another site than `127.0.0.1`) and from another port
 * of the same machine (same-site). None may reach a webhook, switch a destination or forget a phone; the
 * receiver refuses them itself (its 403 count goes up), and the same change from its own page works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBrowser, startReceiver, type Browser } from './support.ts';
import type { RunningServer } from '../../src/start.ts';

// Read inside the browser (page.waitForFunction).
declare const document: any;

const MAC = '001565aacc01';

describe('pages on another site or port cannot act through the admin\'s browser', { timeout: 180_000 }, () => {
  let hook: http.Server;
  const received: string[] = [];
  const seen = new Set<string>();
  let attacker: http.Server;
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        // What a page could have caused: a test delivery, or a delivery sent again (a webhook-id seen before).
        // The phone's own events arrive here too, once each.
        const id = String(req.headers['webhook-id']);
        if (body.includes('"actionurl.test"')) received.push(`test ${id}`);
        else if (seen.has(id)) received.push(`again ${id}`);
        seen.add(id);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    server = await startReceiver({ webhook: [`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`] });
    const target = server.url;
    // The attacker's page: a form posted into a frame, and no-cors fetches of every shape a page may send
    // without a preflight, at every change endpoint.
    const page = `<!doctype html><iframe name="sink"></iframe>
      <form id="f" method="POST" target="sink" action="${target}/api/v1/destinations/webhook1/test"><input name="x" value="1"></form>
      <script>
        document.getElementById('f').submit();
        const paths = ['/api/v1/destinations/webhook1/test', '/api/v1/deliveries/1/retry', '/api/v1/destinations/webhook1/enable',
          '/api/v1/phones/${MAC}/commands', '/api/v1/inventory'];
        const shapes = [{}, { headers: { 'Content-Type': 'text/plain' }, body: '{"command":"dial","number":"1"}' },
          { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' }];
        Promise.allSettled(paths.flatMap((p) => shapes.map((s) => fetch('${target}' + p, { method: 'POST', mode: 'no-cors', credentials: 'include', ...s }))))
          .then(() => fetch('${target}/api/v1/phones/${MAC}', { method: 'DELETE', mode: 'no-cors', credentials: 'include' }).catch(() => {}))
          .finally(() => { document.title = 'done'; });
      </script>`;
    attacker = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page));
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    browser = await openBrowser();
    const res = await fetch(`${server.url}/actionurl/registered?mac=${MAC}`);
    assert.equal(res.status, 200);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((r) => attacker?.close(r));
    await new Promise((r) => hook?.close(r));
  });

  const refusals = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^actionurl_http_responses_total\{code="403"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };

  for (const origin of ['another site (localhost)', 'another port of this machine (127.0.0.1)']) {
    test(`a page from ${origin}: every change refused by the receiver, nothing sent, nothing changed`, async () => {
      const host = origin.includes('localhost') ? 'localhost' : '127.0.0.1';
      const before = await refusals();
      const page = await browser.newPage();
      await page.goto(`http://${host}:${(attacker.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 30_000 });
      await page.waitForTimeout(500); // the form's frame
      await page.close();
      const refused = (await refusals()) - before;
      // 1 form + 5 paths × 3 shapes reach the receiver and are refused by it (the DELETE is stopped by the browser).
      assert.ok(refused >= 16, `the receiver refused ${refused} requests`);
      assert.equal((await fetch(`${server.url}/api/v1/phones/${MAC}`)).status, 200, 'the phone is not forgotten');
      // Nothing should be sent: an absence cannot be waited for, so a wrongly sent delivery gets a second to arrive.
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(received, [], 'nothing reached the webhook');
    });
  }

  test('the same change from the receiver\'s own page works (so the checks above can fail)', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const status = await page.evaluate(async () => (await fetch('/api/v1/destinations/webhook1/test', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
    assert.equal(status, 202);
    const until = Date.now() + 30_000;
    while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 1, 'the test delivery arrived');
    await page.close();
  });
});
