/**
 * The phone, calls and events pages in a real browser against a real receiver, on both stores.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { RunningServer } from '../../src/start.ts';
import { describeEachStore } from '../stores.ts';
import { openBrowser, rawGet, startReceiver, TestPhone, type Browser } from './support.ts';

declare const document: any;

describeEachStore('phone, calls and events pages', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;
  let alice: TestPhone;
  let bob: TestPhone;

  before(async () => {
    server = await startReceiver({ storeKind: store });
    browser = await openBrowser();
    alice = new TestPhone(server.url, '001565000b01', { model: 'SIP-T54W' });
    bob = new TestPhone(server.url, '001565000b02', { model: 'SIP-T31G' });
    await alice.register('401@pbx.example.com');
    await bob.register('402@pbx.example.com');
    // Alice answers a call from Carol; Bob misses one from Dave and rejects one from Eve.
    const carol = { call_id: '1', remote: 'sip:5001@pbx.example.com', display_remote: 'Carol' };
    await alice.send('incoming_call', carol);
    await alice.send('call_established', carol);
    await alice.send('call_terminated', carol);
    await alice.send('busy_to_idle', carol);
    await bob.send('incoming_call', { call_id: '2', remote: 'sip:5002@pbx.example.com', display_remote: 'Dave' });
    await bob.send('missed_call', { call_id: '2', remote: 'sip:5002@pbx.example.com', display_remote: 'Dave' });
    await bob.send('incoming_call', { call_id: '3', remote: 'sip:5003@pbx.example.com', display_remote: 'Eve' });
    await bob.send('reject_incoming_call', { call_id: '3', remote: 'sip:5003@pbx.example.com', display_remote: 'Eve' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('phone page: identity, account, calls with outcome, and a timeline with every variable', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/phone/00:15:65:00:0b:01`);
    await page.locator('.phone-page .badge[data-presence="idle"]').waitFor();
    const identity = await page.locator('.kv').first().innerText();
    assert.match(identity, /00:15:65:00:0b:01/);
    assert.match(identity, /SIP-T54W/);
    assert.match(identity, /108\.86\.0\.20/);
    assert.match(await page.locator('section[aria-labelledby="ph-acc"]').innerText(), /401@pbx\.example\.com\s+registered/);
    const calls = page.locator('section[aria-labelledby="ph-calls"] tbody tr');
    await calls.first().waitFor();
    assert.equal(await calls.count(), 1);
    assert.match(await calls.first().innerText(), /incoming\s+Carol \(5001@pbx\.example\.com\)\s+answered/);
    // Newest first; every variable the phone sent is listed with its value.
    const first = page.locator('.timeline li.event').first();
    assert.equal(await first.getAttribute('data-incident'), 'busy_to_idle');
    const established = page.locator('.timeline li.event[data-incident="call_established"]');
    const vars = await established.locator('.vars').innerText();
    for (const [name, value] of [['mac', '001565000b01'], ['call_id', '1'], ['remote', 'sip:5001@pbx.example.com'], ['display_remote', 'Carol'], ['model', 'SIP-T54W']]) {
      assert.match(vars, new RegExp(`\\$${name}\\s+${value.replace(/[.]/g, '\\.')}`), name);
    }

    // Live: a new event shows up at the top of the timeline and changes the presence.
    await alice.send('dnd_on');
    await page.locator('.phone-page .badge[data-presence="dnd"]').waitFor();
    await page.locator('.timeline li.event').first().and(page.locator('[data-incident="dnd_on"]')).waitFor();
    assert.deepEqual(browser.problems, []);
    await page.close();
    await alice.send('dnd_off');
  });

  it('calls page: the log across phones, outcome filter, totals and a chart', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/calls`);
    const rows = page.locator('table.calls tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.calls tbody tr').length === 3);
    assert.deepEqual((await rows.locator('.outcome').allTextContents()).sort(), ['answered', 'missed', 'rejected']);
    assert.equal(await page.locator('.stat', { hasText: 'Calls' }).locator('.stat-value').textContent(), '3');
    assert.equal(await page.locator('.stat[data-outcome="missed"] .stat-value').textContent(), '1');
    // One bar segment per outcome in the current hour.
    assert.deepEqual((await page.locator('svg.chart rect.bar').evaluateAll((els: any[]) => els.map((e) => e.dataset.outcome))).sort(),
      ['answered', 'missed', 'rejected']);

    await page.selectOption('#calls-outcome', 'missed');
    await page.waitForFunction(() => document.querySelectorAll('table.calls tbody tr').length === 1);
    assert.match(await rows.first().innerText(), /00:15:65:00:0b:02\s+incoming\s+Dave/);

    await page.selectOption('#calls-outcome', '');
    await page.fill('#calls-mac', '00-15-65-00-0B-01');
    await page.click('.calls-page button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('table.calls tbody tr').length === 1);
    assert.match(await rows.first().innerText(), /Carol/);

    // A time range that ends before the calls were made shows none.
    await page.fill('#calls-mac', '');
    await page.fill('#calls-to', '2001-01-01T00:00');
    await page.click('.calls-page button[type="submit"]');
    await page.locator('.calls-page p.muted', { hasText: 'No calls match.' }).waitFor();
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('calls page: the share of incoming calls answered is the reports\' answer rate (a failed transfer is not answered)', async () => {
    // Frank's call is answered, then lost in a failed blind transfer: it has an answer time, and its outcome
    // is failed. Of the four incoming calls that ended (Carol answered, Dave missed, Eve rejected, Frank
    // failed) one counts as answered.
    const carl = new TestPhone(server.url, '001565000b03', { model: 'SIP-T46U' });
    const frank = { call_id: '4', remote: 'sip:5004@pbx.example.com', display_remote: 'Frank' };
    for (const incident of ['incoming_call', 'call_established', 'transfer_call', 'blind_transfer_call', 'transfer_failed', 'call_terminated']) {
      await carl.send(incident, frank);
    }
    const reports = await (await fetch(`${server.url}/api/v1/reports/phones?from=24h`)).json() as { phones: { calls_in: number; answered_in: number }[] };
    const callsIn = reports.phones.reduce((n, p) => n + p.calls_in, 0);
    const answeredIn = reports.phones.reduce((n, p) => n + p.answered_in, 0);
    assert.deepEqual([answeredIn, callsIn], [1, 4], 'the reports count one of four incoming calls as answered');

    const page = await browser.newPage();
    await page.goto(`${server.url}/#/calls`);
    await page.waitForFunction(() => document.querySelectorAll('table.calls tbody tr').length === 4);
    assert.equal(await page.locator('.stat[data-outcome="failed"] .stat-value').textContent(), '1');
    assert.equal(await page.locator('.stat', { hasText: 'Incoming answered' }).locator('.stat-value').textContent(), '25 %');
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('phone page: a name typed before the phone has loaded is kept, and a read older than the save does not undo it', async () => {
    const dave = new TestPhone(server.url, '001565000b04', { model: 'SIP-T46U' });
    await dave.register('404@pbx.example.com');
    const page = await browser.newPage();
    // The page's reads of this phone are answered as the receiver had it, but only when the test says so
    // (a slow answer, as from a busy database): the first before the save, the second after it.
    const held: (() => void)[] = [];
    await page.route('**/api/v1/phones/001565000b04', async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const response = await route.fetch();
      await new Promise<void>((release) => held.push(release));
      await route.fulfill({ response });
    });
    /** Lets the oldest held read through, once one has come (a page that sends none fails the checks after). */
    const release = async () => {
      for (let waited = 0; held.length === 0 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      held.shift()?.();
    };
    await page.goto(`${server.url}/#/phone/00:15:65:00:0b:04`);
    await page.locator('#inv-name').fill('Front desk');
    await page.locator('#inv-location').fill('Floor 2');
    await release(); // the phone as it was (no name) arrives after the typing
    await page.locator('.phone-page .badge[data-presence="idle"]').waitFor();
    assert.equal(await page.locator('#inv-name').inputValue(), 'Front desk');
    assert.equal(await page.locator('#inv-location').inputValue(), 'Floor 2');

    // A read sent before the save (a live event asks for one) answers after it, with the old name.
    await dave.send('dnd_on');
    await page.locator('.timeline li.event[data-incident="dnd_on"]').waitFor();
    await page.locator('#inv-save').click();
    await page.locator('#inv-status', { hasText: 'Saved.' }).waitFor();
    await page.locator('h1', { hasText: 'Front desk' }).waitFor();
    await release();
    // The page reads again rather than draw the old name; let that read through too.
    await release();
    await page.locator('.phone-page .badge[data-presence="dnd"]').waitFor();
    assert.equal(await page.locator('h1').textContent(), 'Front desk (00:15:65:00:0b:04)');
    const saved = await (await fetch(`${server.url}/api/v1/phones/001565000b04`)).json() as { name: string; location: string };
    assert.deepEqual([saved.name, saved.location], ['Front desk', 'Floor 2']);
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('events page: filters, live tail, and refused requests with their reason', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/events`);
    await page.locator('table.events tbody tr').first().waitFor();
    await page.selectOption('#ev-incident', 'missed_call');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('table.events tbody tr')];
      return rows.length === 1 && rows[0].dataset.incident === 'missed_call';
    });
    await page.selectOption('#ev-incident', '');
    await page.fill('#ev-mac', '001565000b02');
    await page.click('#panel-events button[type="submit"]');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('table.events tbody tr')];
      return rows.length === 5 && rows.every((r: any) => r.dataset.mac === '001565000b02');
    });

    // Live tail: a new event of this phone appears on top; another phone's does not.
    await alice.send('dnd_on');
    await bob.send('dnd_on');
    await page.locator('table.events tbody tr').first().and(page.locator('[data-incident="dnd_on"]')).waitFor();
    assert.equal(await page.locator('table.events tbody tr[data-mac="001565000b01"]').count(), 0);
    assert.equal(await page.locator('table.events tbody tr[data-incident="dnd_on"]').count(), 1);

    // A request without a MAC is refused, kept, and listed with the reason.
    const refused = await rawGet(server.url, '/actionurl/incoming_call?display_remote=Nobody');
    assert.equal(refused.status, 400);
    await page.click('#tab-rejected');
    const row = page.locator('table.rejected tbody tr').first();
    await row.waitFor();
    assert.match(await row.innerText(), /400/);
    assert.match(await row.innerText(), /incoming_call\?display_remote=Nobody/);
    assert.ok(((await row.locator('td').nth(3).textContent()) ?? '').trim().length > 0, 'a reason is shown');
    assert.deepEqual(browser.problems, []);
    await page.close();
    await alice.send('dnd_off');
    await bob.send('dnd_off');
  });

  it('is usable on a phone-sized screen and by keyboard', async () => {
    const small = await openBrowser({ width: 390, height: 844 });
    try {
      const page = await small.newPage();
      await page.goto(`${server.url}/#/board`);
      await page.locator('.board .vlist-rows .row[data-mac="001565000b01"]').waitFor();
      // Nothing wider than the screen.
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390 + 1));
      // The navigation and the phone links are reachable with Tab and open with Enter.
      await page.keyboard.press('Tab');
      let reached = '';
      for (let i = 0; i < 40 && !reached.includes('#/phone/'); i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => document.activeElement?.getAttribute('href') ?? '');
      }
      assert.match(reached, /^#\/phone\/001565000b0[12]$/);
      await page.keyboard.press('Enter');
      await page.locator('.phone-page h1').waitFor();
      assert.deepEqual(small.problems, []);
    } finally {
      await small.close();
    }
  });
});
