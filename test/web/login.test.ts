/**
 * Sign-in with the admin token, in a real browser against a receiver started with `adminToken`.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { RunningServer } from '../../src/start.ts';
import { SESSION_COOKIE } from '../../src/web/auth.ts';

/** Any of the receivers' session cookies (each receiver's name carries an id of its own). */
const isSession = (name: string) => name.startsWith(`${SESSION_COOKIE}_`);
import { boardRow, openBrowser, startReceiver, TestPhone, type Browser } from './support.ts';
import { describeEachStore } from '../stores.ts';

describeEachStore('admin token sign-in', { timeout: 180_000 }, (store) => {
  const ADMIN = 'admin-secret-for-tests';
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    server = await startReceiver({ storeKind: store, adminToken: ADMIN });
    browser = await openBrowser();
    await new TestPhone(server.url, '001565000d01').register();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('keeps the dashboard and its data behind the token', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/events`);
    assert.equal(new URL(page.url()).pathname, '/login');
    const api = await page.evaluate(async () => (await fetch('/api/v1/phones')).status);
    assert.equal(api, 401);
    await page.close();
  });

  it('refuses a wrong token, then signs in with the right one and returns to the page asked for', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/#/board`);
    await page.fill('#token', 'wrong');
    await page.click('button[type="submit"]');
    await page.locator('#login-error').waitFor();
    assert.equal(await browser.context.cookies().then((c) => c.some((x) => isSession(x.name))), false);

    await page.fill('#token', ADMIN);
    await page.click('button[type="submit"]');
    await boardRow(page, '001565000d01', 'idle').waitFor();
    assert.equal(new URL(page.url()).hash, '#/board');
    const cookie = (await browser.context.cookies()).find((c) => isSession(c.name));
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(!cookie.value.includes(ADMIN));
    // The session is not readable from page scripts.
    assert.equal(await page.evaluate(() => (globalThis as any).document.cookie), '');

    // The live stream is authorized by the same cookie.
    await page.locator('#stream-status[data-status="live"]').waitFor();
    await new TestPhone(server.url, '001565000d01').send('dnd_on');
    await boardRow(page, '001565000d01', 'dnd').waitFor();

    // Sign out: back to the login page, and the data is closed again.
    await page.click('#logout button');
    await page.waitForURL((url) => url.pathname === '/login');
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/phones')).status), 401);
    assert.deepEqual(browser.problems, []);
    await page.close();
  });

  it('offers Sign out only where someone signed in: not on this machine, where the dashboard opens without it', { timeout: 60_000 }, async () => {
    // The default access: browsers on this machine get in without signing in; others use the printed link.
    const local = await startReceiver({ storeKind: store });
    const page = await browser.newPage();
    try {
      const answered = page.waitForResponse((r) => r.url().endsWith('/ui/session.json'));
      await page.goto(`${local.url}/#/board`);
      await answered;
      await page.locator('#stream-status[data-status="live"]').waitFor();
      assert.equal(await page.locator('#logout').isVisible(), false, 'no Sign out without a sign-in');

      // Signed in with the link the receiver prints: now there is a session, and Sign out ends it.
      await page.goto(`${local.url}/?token=${encodeURIComponent(local.ctx.settings.adminToken!)}`);
      await page.locator('#logout button').waitFor();
      await page.click('#logout button');
      await page.waitForURL((url) => url.pathname === '/login' || url.pathname === '/');
      assert.equal((await browser.context.cookies(local.url)).some((c) => isSession(c.name)), false);
      assert.deepEqual(browser.problems, []);
    } finally {
      await page.close();
      await local.close();
    }
  });
});
