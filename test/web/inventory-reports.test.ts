/**
 * The inventory, forgetting, group filters, exports and the Reports page in a real browser, against a
 * receiver fed with a known set of calls: every figure on the Reports page is compared with the same figure
 * computed in this test from the calls it sent. On both stores.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { describeEachStore } from '../stores.ts';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/start.ts';
import { launchChromium } from '../chromium.ts';
import { boardMacs, boardRow, rawGet, startReceiver } from './support.ts';
import { expectedFigures, MONDAY, planEvents, samplePlan, type PlannedCall } from '../server/helpers/call-plan.ts';

// Functions passed to page.evaluate run in the browser, where these exist.
declare const document: any;

const A = '001565000a01';
const B = '001565000b02';
const C = '001565000c03';
const plan = samplePlan([A, B, C]);

// The test's own formatting of figures, as the page should show them.
const pct = (x: number | null) => (x === null ? '–' : `${Math.round(x * 100)} %`);
const secs = (x: number | null) => (x === null ? '–' : `${x.toFixed(1)} s`);
function clock(seconds: number): string {
  const t = Math.floor(seconds);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
function shown(calls: PlannedCall[], sl: number): Record<string, string> {
  const f = expectedFigures(calls, sl);
  return {
    calls_in: String(f.calls_in),
    calls_out: String(f.calls_out),
    answered_in: String(f.answered_in),
    missed: String(f.missed),
    answer_rate: pct(f.answer_rate),
    average_ring_seconds: secs(f.average_ring_seconds),
    service_level: pct(f.service_level),
    talk_seconds: clock(f.talk_seconds),
  };
}

async function rowFigures(page: Page, table: string, key: string): Promise<Record<string, string>> {
  const row = page.locator(`table[data-table="${table}"] tr[data-key="${key}"]`);
  await row.waitFor();
  const out: Record<string, string> = {};
  for (const cell of await row.locator('td[data-field]').all()) out[(await cell.getAttribute('data-field'))!] = (await cell.textContent()) ?? '';
  return out;
}

describeEachStore('inventory, forgetting and reports in the dashboard', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const problems: string[] = [];
  const now = { ms: MONDAY };
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-inv-'));

  const send = async (mac: string, incident: string, vars: Record<string, string>) => {
    const q = Object.entries({ mac, ...vars }).map(([k, v]) => `${k}=${v}`).join('&');
    const res = await rawGet(server.url, `/actionurl/${incident}?${q}`);
    assert.equal(res.status, 200, res.body);
  };

  before(async () => {
    server = await startReceiver({ storeKind: store, now: () => now.ms, stateFlushMs: 50 });
    for (const mac of [A, B, C]) await send(mac, 'registered', { active_url: `sip:20${mac.slice(-1)}@pbx.example.com` });
    for (const e of planEvents(plan)) {
      now.ms = e.at;
      await send(e.mac, e.incident, e.vars);
    }
    now.ms = Date.now();
    browser = await launchChromium({ acceptDownloads: true, viewport: { width: 1400, height: 1000 }, timezoneId: 'UTC' });
    page = await browser.context.newPage();
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/net::ERR_|status of 4\d\d/.test(msg.text())) problems.push(msg.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('edits a phone\'s name, location and groups on its page; the board shows them', async () => {
    await page.goto(`${server.url}/#/phone/${A}`);
    await page.locator('#inv-name').fill('<b>Reception</b>');
    await page.locator('#inv-location').fill('Floor 1');
    await page.locator('#inv-groups').fill('sales, front desk');
    await page.locator('#inv-save').click();
    await page.locator('#inv-status', { hasText: 'Saved.' }).waitFor();
    // The heading is drawn again with the saved name a moment after the status says so (under load, later).
    await page.locator('h1', { hasText: 'Reception' }).waitFor();
    assert.equal(await page.locator('h1').textContent(), '<b>Reception</b> (00:15:65:00:0a:01)');
    assert.equal(await page.locator('b', { hasText: 'Reception' }).count(), 0, 'a name is text, never markup');
    const api = (await (await fetch(`${server.url}/api/v1/phones/${A}`)).json()) as any;
    assert.deepEqual([api.name, api.location, api.groups], ['<b>Reception</b>', 'Floor 1', ['sales', 'front desk']]);

    await page.goto(`${server.url}/#/board`);
    await boardRow(page, A).waitFor();
    assert.equal(await boardRow(page, A).locator('.phone-name').textContent(), '<b>Reception</b> · Floor 1');
  });

  it('imports an inventory CSV on the board and filters the board by group', async () => {
    const file = join(dir, 'inventory.csv');
    writeFileSync(file, `mac,name,location,groups\n00:15:65:00:0B:02,Desk B,Floor 2,sales;support\n0015.6500.0c03,Lab,Basement,support\n`);
    await page.locator('#inventory-import').setInputFiles(file);
    await page.locator('#inventory-status', { hasText: 'Imported 2 phones.' }).waitFor();
    await page.locator('#board-group').selectOption('support');
    await page.waitForFunction(() => document.querySelectorAll('.board .vlist-rows .row').length === 2);
    assert.deepEqual((await boardMacs(page)).sort(), [B, C]);

    const download = page.waitForEvent('download');
    await page.locator('#inventory-export').click();
    const text = await readFile((await (await download).path())!, 'utf8');
    assert.equal(text, `mac,name,location,groups\r\n${A},<b>Reception</b>,Floor 1,sales;front desk\r\n${B},Desk B,Floor 2,sales;support\r\n${C},Lab,Basement,support\r\n`);
    problems.length = 0;
  });

  it('shows every report figure as computed from the calls sent', async () => {
    await page.goto(`${server.url}/#/reports?from=2026-11-02&to=2026-11-03&sl=20`);
    await page.locator('table[data-table="phones"]').waitFor();
    for (const mac of [A, B, C]) {
      assert.deepEqual(await rowFigures(page, 'phones', mac), shown(plan.filter((c) => c.mac === mac), 20), `phone ${mac}`);
    }
    for (const account of ['201@pbx.example.com', '202@pbx.example.com', '203@pbx.example.com']) {
      assert.deepEqual(await rowFigures(page, 'accounts', account), shown(plan.filter((c) => c.account === account), 20), account);
    }
    const groups: Record<string, string[]> = { sales: [A, B], support: [B, C], 'front desk': [A] };
    for (const [group, macs] of Object.entries(groups)) {
      assert.deepEqual(await rowFigures(page, 'groups', group), shown(plan.filter((c) => macs.includes(c.mac)), 20), group);
    }
    // Missed calls per extension, most first.
    const missedRows = await page.locator('table[data-table="missed"] tbody tr').all();
    const missed: [string, string][] = [];
    for (const r of missedRows) missed.push([(await r.locator('[data-field="extension"]').textContent())!, (await r.locator('[data-field="missed"]').textContent())!]);
    const expectMissed = ['201', '202', '203']
      .map((ext) => [ext, String(plan.filter((c) => c.account.startsWith(`${ext}@`) && c.direction === 'incoming' && c.talk === null && c.unanswered === 'missed').length)] as [string, string])
      .filter(([, n]) => n !== '0')
      .sort((x, y) => Number(y[1]) - Number(x[1]) || x[0].localeCompare(y[0]));
    assert.deepEqual(missed, expectMissed);
    // The heat map, in the browser's zone (UTC here): every cell.
    const expectHeat = new Map<string, number>();
    for (const c of plan) {
      const d = new Date(c.start);
      const key = `${(d.getUTCDay() + 6) % 7}/${d.getUTCHours()}`;
      expectHeat.set(key, (expectHeat.get(key) ?? 0) + 1);
    }
    const cells = await page.locator('table[data-table="heatmap"] td').evaluateAll((tds) =>
      tds.map((td: any) => [`${td.dataset.weekday}/${td.dataset.hour}`, td.textContent ?? '']));
    assert.equal(cells.length, 7 * 24);
    for (const [key, text] of cells) assert.equal(text, expectHeat.has(key) ? String(expectHeat.get(key)) : '', `heat map ${key}`);

    // Another service level and a group: the figures follow.
    await page.locator('#rep-sl').selectOption('5');
    await page.locator('#rep-group').selectOption('support');
    await page.locator('button', { hasText: 'Apply' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table[data-table="phones"] tbody tr').length === 2);
    assert.deepEqual(await rowFigures(page, 'phones', C), shown(plan.filter((c) => c.mac === C), 5));

    // The address keeps the choice: a reload (or the same address bookmarked) shows the same report.
    const address = new URL(page.url());
    assert.equal(new URLSearchParams(address.hash.split('?')[1]).get('group'), 'support');
    await page.reload();
    await page.locator(`table[data-table="phones"] tr[data-key="${C}"]`).waitFor();
    assert.equal(await page.locator('#rep-group').inputValue(), 'support');
    assert.equal(await page.locator('#rep-sl').inputValue(), '5');
    assert.deepEqual((await page.locator('table[data-table="phones"] tbody tr').evaluateAll((rows) => rows.map((r: any) => r.dataset.key))).sort(), [B, C].sort());
    assert.deepEqual(await rowFigures(page, 'phones', C), shown(plan.filter((c) => c.mac === C), 5));
    // Following a link to another group while on the page (same page, new address) shows that group.
    await page.evaluate(() => { (globalThis as any).location.hash = '#/reports?from=2026-11-02&to=2026-11-03&sl=20&group=sales'; });
    await page.waitForFunction((macs) => [...document.querySelectorAll('table[data-table="phones"] tbody tr')].map((r: any) => r.dataset.key).sort().join() === macs, [A, B].sort().join());
    assert.equal(await page.locator('#rep-group').inputValue(), 'sales');
    assert.deepEqual(problems, []);
  });

  it('exports the calls of a group from the calls page', async () => {
    await page.goto(`${server.url}/#/calls?group=sales&from=${MONDAY}&to=${MONDAY + 3 * 86_400_000}`);
    await page.locator('#calls-export-csv').waitFor();
    const download = page.waitForEvent('download');
    await page.locator('#calls-export-csv').click();
    const text = await readFile((await (await download).path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    const macIndex = lines[0].split(',').indexOf('mac');
    const macs = lines.slice(1).map((l) => l.split(',')[macIndex]).sort();
    assert.deepEqual(macs, plan.filter((c) => c.mac === A || c.mac === B).map((c) => c.mac).sort());
  });

  it('forgets a phone from its page: it leaves the board, its calls stay', async () => {
    await page.goto(`${server.url}/#/phone/${C}`);
    await page.locator('#forget').click();
    await page.locator('#forget-confirm').click();
    await page.waitForURL(/#\/board/);
    await boardRow(page, A).waitFor();
    assert.ok(!(await boardMacs(page)).includes(C));
    assert.equal((await fetch(`${server.url}/api/v1/phones/${C}`)).status, 404);
    const calls = ((await (await fetch(`${server.url}/api/v1/calls?mac=${C}`)).json()) as any).calls;
    assert.equal(calls.length, plan.filter((c) => c.mac === C).length);
    assert.deepEqual(problems, []);
  });

  it('a save made while the page\'s first read of the phone is still on its way keeps the saved name', async () => {
    // The page's own read of the phone is answered before the save and arrives after it, as on a slow link.
    let release!: () => void;
    const saved = new Promise<void>((r) => (release = r));
    const held = `**/api/v1/phones/${A}`;
    // Last in this suite: the page's form holds no groups until its read answers, so the save clears them.
    await page.route(held, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      // Answered by the receiver now (with the name from before the save), delivered after the save.
      const response = await route.fetch();
      await saved;
      await route.fulfill({ response });
    });
    try {
      await page.goto(`${server.url}/#/board`);
      await page.goto(`${server.url}/#/phone/${A}`);
      await page.locator('#inv-name').fill('Reception 2');
      await page.locator('#inv-save').click();
      await page.locator('#inv-status', { hasText: 'Saved.' }).waitFor();
      release();
      await page.waitForTimeout(500); // the held read answers now, with the name from before the save
      assert.equal(await page.locator('h1').textContent(), 'Reception 2 (00:15:65:00:0a:01)');
    } finally {
      release();
      await page.unroute(held);
    }
  });
});
