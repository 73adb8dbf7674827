/**
 * The Set-up page in a real browser against a real receiver: URL templates, config-file downloads that the
 * vendor codecs read back, and the "test it" button going through the real ingest path and the stream.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import { expand } from '../../src/core/templates.ts';
import { getVendorCodec, supportedIncidents, VENDOR_IDS } from '../../src/core/vendors/index.ts';
import type { RunningServer } from '../../src/start.ts';
import { boardRow, openBrowser, rawGet, startReceiver, type Browser } from './support.ts';
import { describeEachStore } from '../stores.ts';

describeEachStore('set-up page', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    server = await startReceiver({ storeKind: store, token: 'ingest-secret' });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists a working Action URL for every incident', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/setup`);
    const templates = page.locator('table.templates input.template');
    await templates.first().waitFor();
    assert.equal(await templates.count(), 34);
    const row = page.locator('table.templates tr[data-slug="incoming_call"] input.template');
    const template = await row.inputValue();
    assert.ok(template.startsWith(`${server.url}/actionurl/incoming_call?`), template);
    assert.match(template, /token=ingest-secret/);
    // Expanded as a phone would, the URL is accepted by the receiver.
    const url = expand(template, { mac: '00:15:65:00:0c:01', display_remote: 'Zoë Test', call_id: '9' }, 'phone');
    const sent = await rawGet(server.url, Buffer.from(new URL(url).pathname + url.slice(url.indexOf('?')), 'utf8'));
    assert.equal(sent.status, 200, sent.body);
    // Every copy button is a real, labelled button.
    assert.equal(await page.locator('table.templates button.copy[aria-label^="Copy the URL for "]').count(), 34);
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('downloads a config file per vendor that the vendor reads back, pointing at this receiver', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/setup`);
    await page.fill('#setup-mac', '00:15:65:AB:CD:EF');
    for (const vendor of VENDOR_IDS) {
      const link = page.locator(`.downloads a[data-vendor="${vendor}"]`).first();
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const codec = getVendorCodec(vendor);
      assert.equal(download.suggestedFilename(), codec.fileName('001565abcdef'), vendor);
      const text = await readFile((await download.path())!, 'utf8');
      const read = codec.read(text);
      assert.equal(read.error, undefined, `${vendor}: ${read.error}`);
      assert.equal(read.unused.length, 0, vendor);
      assert.deepEqual(Object.keys(read.config.urls).sort(), supportedIncidents(vendor).sort(), vendor);
      for (const [slug, url] of Object.entries(read.config.urls)) {
        assert.ok(url.startsWith(`${server.url}/actionurl/${slug}?`), `${vendor} ${slug}: ${url}`);
        assert.match(url, /token=ingest-secret/);
      }
    }
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('"Send a test event" goes through ingest, comes back on the live stream and lands on the board', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/setup`);
    await page.fill('#test-mac', '00:00:5e:00:53:42');
    await page.click('#test-send');
    const arrived = page.locator('#test-arrived');
    await arrived.waitFor();
    assert.match(await arrived.innerText(), /arrived on the live stream after \d+ ms/);
    // The stream may bring the event back before the answer to the request is read: wait for both.
    await page.locator('.test-result').filter({ hasText: /Ingest answered 200/ }).waitFor({ timeout: 10_000 });
    await page.click('.nav a[data-view="board"]');
    await boardRow(page, '00005e005342').waitFor();
    assert.deepEqual(browser.problems, []);
    await page.close();
  });
});

describeEachStore('set-up page with per-phone ingest tokens', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    server = await startReceiver({ storeKind: store, tokenSecret: 'fleet-secret' });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('"Send a test event" sends the typed phone\'s own token, so ingest accepts it', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/setup`);
    await page.fill('#test-mac', '00:00:5e:00:53:43');
    await page.click('#test-send');
    await page.locator('#test-arrived').waitFor();
    // The stream may bring the event back before the answer to the request is read: wait for both.
    await page.locator('.test-result').filter({ hasText: /Ingest answered 200/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(browser.problems, []);
    await page.close();
  });
});
