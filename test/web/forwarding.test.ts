/**
 * The Forwarding page in a real browser against a real receiver and a real local webhook: destinations with
 * their health, the delivery log with failures and their reasons, retry, "send a test event", and switching
 * on again a destination that answered 410 Gone. On both stores.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachStore } from '../stores.ts';
import type { RunningServer } from '../../src/start.ts';
import { startHookServer, type HookServer } from '../forwarding/helpers/hook-server.ts';
import { openBrowser, rawGet, startReceiver, type Browser } from './support.ts';

// Run inside the page by evaluate(), where these are the browser's own.
declare const window: any;
declare const document: any;

describeEachStore('forwarding page', { timeout: 120_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;
  let hook: HookServer;
  let accept = false;

  before(async () => {
    hook = await startHookServer(() => ({ status: accept ? 200 : 500 }));
    server = await startReceiver({ storeKind: store, webhook: [hook.url], forwarding: { schedule: [0, 20], recordEveryMs: 10 } });
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await hook?.close();
  });

  it('shows a failing destination and its dead delivery, retries it, and sends a test event', { timeout: 40_000 }, async () => {
    const sent = await rawGet(server.url, '/actionurl/dnd_on?mac=001565feed01');
    assert.equal(sent.status, 200);
    await hook.waitFor(2); // the first attempt and its one retry, both refused

    const page = await browser.newPage();
    await page.goto(`${server.url}/#/forwarding?state=dead`);
    const dest = page.locator('table.destinations tr[data-destination="webhook1"]');
    await dest.waitFor();
    assert.match(await dest.locator('td[data-health]').innerText(), /failing: HTTP 500/);
    // A failing destination is drawn in the error colour, never in the green of a healthy one.
    const colours = await dest.locator('td[data-health]').evaluate((cell) => {
      const probes = ['ok', 'error'].map((cls) => {
        const probe = document.createElement('span');
        probe.className = cls;
        document.body.append(probe);
        return probe;
      });
      const [ok, error] = probes.map((probe) => window.getComputedStyle(probe).color);
      for (const probe of probes) probe.remove();
      return { cell: window.getComputedStyle(cell).color, ok, error };
    });
    assert.notEqual(colours.ok, colours.error);
    assert.equal(colours.cell, colours.error, 'failing is drawn in the error colour');
    const deadRow = page.locator('table.deliveries tr[data-state="dead"]').filter({ hasText: 'phone.dnd_on' });
    await deadRow.waitFor();
    assert.match(await deadRow.locator('td.reason').innerText(), /HTTP 500/);
    // A handful of deliveries fits one page: no "Older deliveries" button to click into nothing.
    assert.equal(await page.getByRole('button', { name: 'Older deliveries' }).isVisible(), false);

    accept = true;
    const before = hook.received.length;
    await deadRow.locator('button.retry').click();
    const again = await hook.waitForMatch((r) => r.json.type === 'phone.dnd_on', before);
    assert.equal(again.headers['webhook-id'], hook.received[0].headers['webhook-id'], 'same id when retried from the page');
    await page.selectOption('#fwd-state', 'delivered');
    await page.locator('table.deliveries tr[data-state="delivered"]').filter({ hasText: 'phone.dnd_on' }).waitFor();

    await dest.locator('button.test-event').click();
    const test = await hook.waitForMatch((r) => r.json.type === 'actionurl.test');
    assert.equal((test.json.data as { destination: string }).destination, 'webhook1');
    await page.locator('#fwd-notice').filter({ hasText: 'test event is on its way' }).waitFor();
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('a destination switched off by 410 Gone says so and since when, and its button switches it on again', { timeout: 40_000 }, async () => {
    let gone = true;
    const goneHook = await startHookServer(() => ({ status: gone ? 410 : 200 }));
    const other = await startReceiver({ storeKind: store, webhook: [goneHook.url], forwarding: { schedule: [0, 20], recordEveryMs: 10 } });
    const page = await browser.newPage();
    try {
      assert.equal((await rawGet(other.url, '/actionurl/dnd_on?mac=001565feed02')).status, 200);
      await goneHook.waitFor(1);
      await page.goto(`${other.url}/#/forwarding`);
      const dest = page.locator('table.destinations tr[data-destination="webhook1"]');
      await dest.locator('td[data-health]').filter({ hasText: /switched off since .*410/ }).waitFor();
      assert.equal(await dest.locator('button.test-event').count(), 0, 'no test event for a switched-off destination');

      gone = false;
      await dest.locator('button.enable').click();
      await page.locator('#fwd-notice').filter({ hasText: 'webhook1 takes deliveries again' }).waitFor();
      await dest.locator('td[data-health]').filter({ hasText: /^ok$/ }).waitFor();
      await dest.locator('button.test-event').click();
      await goneHook.waitForMatch((r) => r.json.type === 'actionurl.test');
      assert.deepEqual(browser.problems, []);
    } finally {
      await page.close();
      await other.close();
      await goneHook.close();
    }
  });
  it('Retry on a switched-off destination says the delivery waits for the switch-on and offers it; switched on, it is sent', { timeout: 40_000 }, async () => {
    let gone = true;
    const goneHook = await startHookServer(() => ({ status: gone ? 410 : 200 }));
    const other = await startReceiver({ storeKind: store, webhook: [goneHook.url], forwarding: { schedule: [0, 20], recordEveryMs: 10 } });
    const page = await browser.newPage();
    try {
      assert.equal((await rawGet(other.url, '/actionurl/dnd_on?mac=001565feed03')).status, 200);
      const [first] = await goneHook.waitFor(1);
      gone = false; // the destination would take it now, but it stays switched off until someone switches it on
      await page.goto(`${other.url}/#/forwarding`);
      const dest = page.locator('table.destinations tr[data-destination="webhook1"]');
      await dest.locator('td[data-health]').filter({ hasText: /switched off/ }).waitFor();
      const row = page.locator('table.deliveries tr').filter({ hasText: 'phone.dnd_on' });
      const id = await row.getAttribute('data-id');
      await row.locator('button.retry').click();
      const notice = page.locator('#fwd-notice');
      await notice.filter({ hasText: `Delivery ${id} waits` }).waitFor();
      assert.match(await notice.innerText(), /webhook1 is switched off, so it is sent only once webhook1 is switched on again/);
      assert.doesNotMatch(await notice.innerText(), /is sent again/);
      assert.equal(goneHook.received.length, 1, 'nothing was sent to the switched-off destination');

      await notice.getByRole('button', { name: 'Switch webhook1 on again' }).click();
      await notice.filter({ hasText: 'webhook1 takes deliveries again' }).waitFor();
      const again = await goneHook.waitForMatch((r) => r.json.type === 'phone.dnd_on', 1);
      assert.equal(again.headers['webhook-id'], first.headers['webhook-id'], 'the retried delivery, not a new one');
      await page.locator(`table.deliveries tr[data-id="${id}"][data-state="delivered"]`).waitFor();
      assert.deepEqual(browser.problems, []);
    } finally {
      await page.close();
      await other.close();
      await goneHook.close();
    }
  });
});
