import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createPhone, type Phone } from '../../src/phone/phone.ts';
import { startPhoneWeb, type PhoneWeb } from '../../src/phone/web/server.ts';
import { launchBrowser } from './browser.ts';

// These run inside the page (page.evaluate), where the DOM exists; the test itself runs in Node.
declare const document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
declare const window: { __pwned?: number };

let browser: Awaited<ReturnType<typeof launchBrowser>>;
let phone: Phone;
let web: PhoneWeb;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'actionurl-web-'));
const consoleErrors: string[] = [];

before(async () => {
  phone = createPhone({ mac: '00:15:65:12:34:56' });
  web = await startPhoneWeb(phone);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  // Script errors and CSP refusals; pages answered 4xx on purpose (refused saves) are not errors here.
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  await page.goto(`${web.url}/panel`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'admin');
  await page.click('button[type=submit]');
  await page.waitForURL(`${web.url}/panel`);
});

after(async () => {
  await browser?.close();
  await web?.close();
  await phone?.close();
  rmSync(dir, { recursive: true, force: true });
});

const GOOD = {
  registered: 'http://10.0.0.5:8080/actionurl/registered?mac=$mac&ip=$ip',
  incoming_call: 'http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&display_remote=$display_remote',
};

test('Phone → Action URL: an error is shown and blocks saving; a warning is shown while typing', { timeout: 180_000 }, async () => {
  await page.goto(`${web.url}/actionurl`);
  await page.fill('#url-registered', GOOD.registered);
  await page.fill('#url-dnd_on', 'ftp://10.0.0.5/dnd');
  await page.click('#save');
  await page.waitForSelector('#save-errors');
  assert.match(await page.textContent('#save-errors') ?? '', /Not saved: 1 URL has an error.*dnd_on.*scheme "ftp"/s);
  assert.match(await page.textContent('tr[data-slug=dnd_on] ul.lint') ?? '', /error: the scheme "ftp" is not supported/);
  assert.equal(await page.inputValue('#url-dnd_on'), 'ftp://10.0.0.5/dnd', 'what was typed stays in the form');
  assert.deepEqual(phone.config, { enabled: false, urls: {} }, 'nothing saved');

  // Live lint: a variable registration never fills is flagged as the user types.
  await page.fill('#url-registered', 'http://10.0.0.5/r?who=$remote');
  await page.waitForSelector('tr[data-slug=registered] ul.lint li.warning');
  assert.match(await page.textContent('tr[data-slug=registered] ul.lint') ?? '', /\$remote is never filled for registered/);
});

test('Phone → Action URL: save, reload, the settings are there', { timeout: 180_000 }, async () => {
  await page.goto(`${web.url}/actionurl`);
  await page.selectOption('#active', '1');
  await page.fill('#url-registered', GOOD.registered);
  await page.fill('#url-incoming_call', GOOD.incoming_call);
  await page.fill('#url-dnd_on', '');
  await page.click('#save');
  await page.waitForSelector('.flash.ok');
  assert.match(await page.textContent('.flash.ok') ?? '', /Saved: Action URL enabled, 2 URLs/);
  assert.deepEqual(phone.config, { enabled: true, urls: GOOD });
  await page.reload();
  assert.equal(await page.inputValue('#url-incoming_call'), GOOD.incoming_call);
  assert.equal(await page.inputValue('#active'), '1');
});

test('config file: download as Fanvil, upload it back, same settings; a broken file is refused with its line', { timeout: 180_000 }, async () => {
  await page.goto(`${web.url}/actionurl`);
  await page.selectOption('#download-vendor', 'fanvil');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(download.suggestedFilename(), '001565123456.cfg');
  const file = join(dir, download.suggestedFilename());
  await download.saveAs(file);
  assert.match(readFileSync(file, 'utf8'), /^<<VOIP CONFIG FILE>>/);

  phone.setConfig({ enabled: false, urls: {} });
  await page.setInputFiles('#upload-file', file);
  await page.click('#upload');
  await page.waitForSelector('.flash.ok');
  assert.match(await page.textContent('.flash.ok') ?? '', /Loaded Fanvil file: Action URL enabled, 2 URLs/);
  assert.deepEqual(phone.config, { enabled: true, urls: GOOD });

  const broken = join(dir, 'y000000000000.cfg');
  writeFileSync(broken, '#!version:1.0.0.1\naction_url.registered = http://10.0.0.9/r\nnot a setting\n');
  await page.setInputFiles('#upload-file', broken);
  await page.click('#upload');
  await page.waitForSelector('#upload-errors');
  assert.match(await page.textContent('#upload-errors') ?? '', /line 3: malformed line/);
  assert.deepEqual(phone.config, { enabled: true, urls: GOOD }, 'a refused file changes nothing');
});

test('panel: buttons drive the phone; a hostile display name is shown as text, never run', { timeout: 180_000 }, async () => {
  await page.goto(`${web.url}/panel`);
  await page.click('button[data-do=boot]');
  await page.waitForSelector('.flash.ok');
  assert.match(await page.textContent('.flash.ok') ?? '', /boot: setup_completed, ip_change/);
  await page.click('button[data-do=register]');
  await page.waitForSelector('.flash.ok');

  const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"\'&amp;';
  await page.fill('input[name=from]', '3001');
  await page.fill('#incoming-name', hostile);
  await page.click('button[data-do=incoming]');
  await page.waitForSelector('td.display-remote');
  assert.equal(await page.textContent('td.display-remote'), hostile);

  // A call that arrives while the page is open reaches it through the live refresh, escaped the same way.
  const second = '<svg onload="window.__pwned=3">Mallory</svg>';
  phone.act({ do: 'incoming', from: '3002', name: second });
  await page.waitForFunction((name) => Array.from(document.querySelectorAll('td.display-remote')).some((td) => td.textContent === name), second);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#live img, #live svg, #live script').length), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(consoleErrors, []);
});
