/**
 * Click-to-dial in a real browser: the dashboard's Dial button sends the command through the receiver to a
 * virtual phone's control endpoint, the phone dials, its Action URL reports the outgoing call, and the call
 * shows on the board, with the command marked confirmed. A refused command shows its reason as text.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ingestConfig } from '../../src/core/ingest-url.ts';
import { createPhone, type Phone } from '../../src/phone/phone.ts';
import { startPhoneWeb, type PhoneWeb } from '../../src/phone/web/server.ts';
import type { RunningServer } from '../../src/start.ts';
import { boardRow, openBrowser, startReceiver, type Browser } from './support.ts';
import { describeEachStore } from '../stores.ts';

describeEachStore('call control in the dashboard', { timeout: 120_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;
  let phone: Phone;
  let web: PhoneWeb;

  before(async () => {
    server = await startReceiver({ storeKind: store });
    browser = await openBrowser();
    phone = createPhone({ vendor: 'grandstream', actionUrl: ingestConfig(server.url) });
    web = await startPhoneWeb(phone, { remoteControl: { allow: '127.0.0.1' } });
    phone.act({ do: 'boot' });
    phone.act({ do: 'register' });
    await phone.drained();
    const put = await fetch(`${server.url}/api/v1/phones/${phone.mac}/control`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: web.url, username: 'admin', password: 'admin' }),
    });
    assert.equal(put.status, 200);
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await phone?.close();
    await server?.close();
  });

  it('click-to-dial from the board: the call appears on the board, the command is confirmed', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/board`);
    const row = boardRow(page, phone.mac, 'idle');
    await row.waitFor();
    await row.locator('button.pick').click();
    assert.match((await page.locator('#board-control-phone').textContent()) ?? '', /^00:0b:82:/);
    await page.fill('#board-control-number', '2001');
    await page.click('#board-control button[data-command="dial"]');
    const dialing = boardRow(page, phone.mac, 'dialing');
    await dialing.waitFor();
    // The row may show the phone dialing a moment before the event that names the number is drawn.
    await dialing.locator('.c-call .party', { hasText: '2001' }).waitFor();
    const line = page.locator('#board-control-progress li[data-command="dial"]');
    await page.locator('#board-control-progress li[data-command="dial"][data-status="confirmed"]').waitFor();
    assert.equal(await line.locator('.status').textContent(), 'confirmed: by outgoing_call');
    assert.deepEqual(phone.state.calls.map((c) => c.remoteUser), ['2001']);

    await page.click('#board-control button[data-command="hangup"]');
    await boardRow(page, phone.mac, 'idle').waitFor();
    assert.deepEqual(browser.problems, []);
  });

  it('on the phone\'s page: DND on is confirmed; a refusal shows its reason as text', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/phone/${phone.mac}`);
    await page.click('#phone-control button[data-command="dnd_on"]');
    await page.locator('#phone-control-progress li[data-command="dnd_on"][data-status="confirmed"]').waitFor();
    assert.equal(phone.state.dnd, true);

    await fetch(`${server.url}/api/v1/phones/${phone.mac}/control`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: '<img src=x onerror=alert(1)>' }),
    });
    await page.click('#phone-control button[data-command="dnd_off"]');
    const failed = page.locator('#phone-control-progress li[data-command="dnd_off"][data-status="failed"] .status');
    await failed.waitFor();
    assert.match((await failed.textContent()) ?? '', /^failed: the phone refused the user name or password/);
    assert.equal(await page.locator('#phone-control-progress img').count(), 0);
    assert.equal(phone.state.dnd, true);
    assert.deepEqual(browser.problems, []);
  });
});

describeEachStore('the phone page\'s control settings', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Browser;
  let phone: Phone;
  let web: PhoneWeb;

  before(async () => {
    server = await startReceiver({ storeKind: store });
    browser = await openBrowser();
    phone = createPhone({ vendor: 'yealink', ip: '127.0.0.1', actionUrl: ingestConfig(server.url) });
    web = await startPhoneWeb(phone, { remoteControl: { allow: '127.0.0.1' }, password: 'Desk-5e77a1' });
    phone.act({ do: 'boot' });
    phone.act({ do: 'register' });
    await phone.drained();
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await phone?.close();
    await server?.close();
  });

  it('set the address and credentials; a wrong address shows the phone as moved, confirming it makes commands work; secrets never come back', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/phone/${phone.mac}`);
    const effective = page.locator('#ctl-effective');
    await page.locator('#ctl-effective', { hasText: /no approved control address/ }).waitFor();
    // The address the phone reports is offered, not used.
    assert.equal(await page.locator('#ctl-confirm').textContent(), 'Approve 127.0.0.1');

    // The admin types a wrong address (another host, the phone's port) and the phone's credentials.
    const port = new URL(web.url).port;
    await page.fill('#ctl-url', `http://127.0.0.9:${port}`);
    await page.fill('#ctl-user', 'admin');
    await page.fill('#ctl-password', 'Desk-5e77a1');
    await page.click('#ctl-save');
    await page.locator('#ctl-status', { hasText: 'Saved.' }).waitFor();
    assert.equal(await page.inputValue('#ctl-password'), '');
    assert.equal(await page.inputValue('#ctl-user'), '');
    assert.match((await page.locator('#ctl-credentials').textContent()) ?? '', /this phone's own/);
    assert.match((await effective.textContent()) ?? '', /^moved: confirm new address 127\.0\.0\.1/);
    assert.match((await page.locator('#ctl-moved').textContent()) ?? '', /Moved: confirm new address 127\.0\.0\.1\..*approved address is 127\.0\.0\.9/);

    // A command now is refused with that reason, and nothing reached the phone.
    await page.click('#phone-control button[data-command="dnd_on"]');
    const refused = page.locator('#phone-control-progress li[data-command="dnd_on"][data-status="failed"] .status');
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? '', /^failed: moved: confirm new address 127\.0\.0\.1/);
    assert.equal(web.control.records().length, 0);

    await page.click('#ctl-confirm');
    await page.locator('#ctl-status', { hasText: 'Approved 127.0.0.1.' }).waitFor();
    assert.equal(await page.inputValue('#ctl-url'), web.url);
    assert.equal(await page.locator('#ctl-moved').isHidden(), true);
    assert.equal(await effective.textContent(), `Commands go to ${web.url} (yealink).`);
    await page.click('#phone-control button[data-command="dnd_on"]');
    await page.locator('#phone-control-progress li[data-command="dnd_on"][data-status="confirmed"]').waitFor();
    assert.equal(phone.state.dnd, true);

    // Reloaded, the page still shows no secret anywhere (fields, text, attributes).
    await page.reload();
    await page.locator('#ctl-credentials', { hasText: 'this phone\'s own' }).waitFor();
    const html = await page.content();
    assert.doesNotMatch(html, /Desk-5e77a1/);
    assert.equal(await page.inputValue('#ctl-password'), '');
    assert.equal(await page.inputValue('#ctl-user'), '');
    assert.deepEqual(browser.problems, []);
  });
});
