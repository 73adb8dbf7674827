/**
 * The board in a real browser against a real receiver: live presence through a whole call, hostile display
 * names rendered as text, filters and sorting. On both stores: a board that stays empty on one of them (new
 * phones missing from the phone list) fails here.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { RunningServer } from '../../src/start.ts';
import { describeEachStore } from '../stores.ts';
import { boardMacs, boardRow, openBrowser, startReceiver, TestPhone, type Browser } from './support.ts';

// Functions passed to page.evaluate run in the browser, where these exist.
declare const window: any;
declare const document: any;

describeEachStore('board', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    server = await startReceiver({ storeKind: store });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('follows a phone through a whole call without reloading', async () => {
    const phone = new TestPhone(server.url, '001565000a01');
    await phone.register();
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/board`);
    await boardRow(page, phone.mac, 'idle').waitFor();
    await page.evaluate(() => { window.notReloaded = true; });

    const call = { call_id: '17', remote: 'sip:3001@pbx.example.com', display_remote: 'Jane Doe' };
    await phone.send('incoming_call', call);
    const ringing = boardRow(page, phone.mac, 'ringing');
    await ringing.waitFor();
    assert.equal(await ringing.locator('.badge').textContent(), 'Ringing');
    assert.equal(await ringing.locator('.c-call .party').textContent(), 'Jane Doe (3001@pbx.example.com)');

    await phone.send('off_hook');
    await phone.send('answer_new_incoming_call', call);
    await phone.send('idle_to_busy', call);
    await phone.send('call_established', call);
    const talking = boardRow(page, phone.mac, 'talking');
    await talking.waitFor();
    assert.equal(await talking.locator('.badge').textContent(), 'Talking');
    assert.match((await talking.locator('.c-since').textContent()) ?? '', /^\d+:\d\d$/);

    await phone.send('hold', call);
    await boardRow(page, phone.mac, 'held').waitFor();
    await phone.send('unhold', call);
    await boardRow(page, phone.mac, 'talking').waitFor();

    await phone.send('on_hook');
    await phone.send('call_terminated', call);
    await phone.send('busy_to_idle', call);
    const idle = boardRow(page, phone.mac, 'idle');
    await idle.waitFor();
    assert.equal(await idle.locator('.c-call .party').textContent(), '');
    assert.equal(await page.evaluate(() => window.notReloaded), true);
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('shows DND, forwarding and mute as flags', async () => {
    const phone = new TestPhone(server.url, '001565000a02');
    await phone.register();
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/board`);
    await boardRow(page, phone.mac).waitFor();
    await phone.send('dnd_on');
    await phone.send('always_fwd_on');
    const row = boardRow(page, phone.mac, 'dnd');
    await row.waitFor();
    await row.locator('.flag', { hasText: 'FWD always' }).waitFor();
    assert.deepEqual(await row.locator('.flag').allTextContents(), ['DND', 'FWD always']);
    await phone.send('dnd_off');
    await boardRow(page, phone.mac, 'idle').waitFor();
    await page.close();
  });

  it('renders a hostile display name as text: no element is created and no script runs', async () => {
    const hostile = '<img src=x onerror=window.pwned=1><script>window.pwned=2</script><b>bold</b>';
    const phone = new TestPhone(server.url, '001565000a03');
    await phone.register();
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/board`);
    await boardRow(page, phone.mac).waitFor();

    await phone.send('incoming_call', { call_id: '5', remote: 'sip:666@evil.example', display_remote: hostile });
    const row = boardRow(page, phone.mac, 'ringing');
    await row.waitFor();
    assert.equal(await row.locator('.c-call .party').textContent(), `${hostile} (666@evil.example)`);
    // The literal text is what a user sees.
    assert.ok((await row.locator('.c-call .party').innerText()).includes('<script>window.pwned=2</script>'));
    // The phone page and the event log show the name too, as text.
    await page.goto(`${server.url}/#/phone/${phone.mac}`);
    await page.locator('.timeline dd', { hasText: '<img src=x' }).first().waitFor();
    await page.goto(`${server.url}/#/events`);
    await page.locator('table.events .v', { hasText: '<script>' }).first().waitFor();
    await page.goto(`${server.url}/#/calls`);
    await page.locator('table.calls td', { hasText: '<img src=x' }).first().waitFor();
    await page.goto(`${server.url}/#/board`);
    await boardRow(page, phone.mac, 'ringing').waitFor();

    // Nothing the name spells exists as an element, and neither its handler nor its script ran.
    const found = await page.evaluate(() => ({
      img: document.querySelectorAll('img[src="x"], img[onerror]').length,
      inlineScript: document.querySelectorAll('script:not([src])').length,
      bold: [...document.querySelectorAll('b')].filter((el: any) => el.textContent === 'bold').length,
      pwned: window.pwned,
    }));
    assert.deepEqual(found, { img: 0, inlineScript: 0, bold: 0, pwned: undefined });
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('filters by presence, model, account and search text, and sorts', async () => {
    // A fresh receiver, so that only these phones are on the board.
    const own = await startReceiver({ storeKind: store });
    try {
      const talking = new TestPhone(own.url, '0004f2000001', { model: 'VVX 411' });
      const ringing = new TestPhone(own.url, '0004f2000002', { model: 'SIP-T46U' });
      const idle = new TestPhone(own.url, '0004f2000003', { model: 'SIP-T46U' });
      await talking.register('301@sales.example.com');
      await ringing.register('302@support.example.com');
      await idle.register('303@sales.example.com');
      await talking.send('outgoing_call', { call_id: '1', remote: 'sip:5550100@pbx', display_remote: 'Acme Corp' });
      await talking.send('call_established', { call_id: '1', remote: 'sip:5550100@pbx', display_remote: 'Acme Corp' });
      await ringing.send('incoming_call', { call_id: '2', remote: 'sip:5550199@pbx', display_remote: 'Bob' });

      const page = await browser.newPage();
      await page.goto(`${own.url}/#/board`);
      await boardRow(page, idle.mac).waitFor();
      await boardRow(page, talking.mac, 'talking').waitFor();
      await boardRow(page, ringing.mac, 'ringing').waitFor();
      // Default order: by presence (talking first, then ringing, then idle).
      assert.deepEqual(await boardMacs(page), [talking.mac, ringing.mac, idle.mac]);

      const shows = async (macs: string[]) => {
        await page.waitForFunction((want) => {
          const rows = [...document.querySelectorAll('.board .vlist-rows .row')]
            .sort((a: any, b: any) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))
            .map((r: any) => r.dataset.mac);
          return JSON.stringify(rows) === JSON.stringify(want);
        }, macs);
      };

      await page.selectOption('#board-presence', 'ringing');
      await shows([ringing.mac]);
      assert.equal(await page.locator('.count').textContent(), '1 of 3 phones');
      await page.selectOption('#board-presence', '');
      await shows([talking.mac, ringing.mac, idle.mac]);

      await page.selectOption('#board-model', 'SIP-T46U');
      await shows([ringing.mac, idle.mac]);
      await page.selectOption('#board-model', '');

      await page.fill('#board-account', 'sales.example');
      await shows([talking.mac, idle.mac]);
      await page.fill('#board-account', '');

      // Search matches the MAC in any spelling, and the party a phone is talking to.
      await page.fill('#board-search', '00:04:f2:00:00:03');
      await shows([idle.mac]);
      await page.fill('#board-search', 'acme');
      await shows([talking.mac]);
      await page.fill('#board-search', '');

      // The filter is kept in the address, so a reload or a shared link shows the same.
      await page.click('.summary .chip[data-presence="talking"]');
      await shows([talking.mac]);
      await page.reload();
      await shows([talking.mac]);
      await page.click('.summary .chip[data-presence="talking"]');
      await shows([talking.mac, ringing.mac, idle.mac]);

      await page.selectOption('#board-sort', 'mac');
      await shows([talking.mac, ringing.mac, idle.mac]);
      await page.click('#board-dir');
      await shows([idle.mac, ringing.mac, talking.mac]);
      assert.deepEqual(browser.problems, []);
      await page.close();
    } finally {
      await own.close();
    }
  });
});
