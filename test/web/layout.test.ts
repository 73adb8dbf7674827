/**
 * Every page of the dashboard at 1920, 1280 and 800 px, looked at in a real browser: no text drawn over other
 * text, nothing in a row cut or drawn outside it, no page wider than the window (see layout.ts). The receiver
 * is fed, through real ingest and the real API, the names a real fleet has: very long display names and
 * models, right-to-left text and emoji, markup. State colours are checked against what they mean.
 *
 * With ACTIONURL_SCREENSHOTS=<folder>, each page at 1280 px is saved there as <page>.png (the docs' pictures).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/start.ts';
import { startHookServer, type HookServer } from '../forwarding/helpers/hook-server.ts';
import { layoutProblems, runInPage } from './layout.ts';
import { openBrowser, startReceiver, TestPhone, type Browser } from './support.ts';

const WIDTHS = [1920, 1280, 800];
const SCREENSHOTS = process.env.ACTIONURL_SCREENSHOTS;

const LONG_NAME = 'Reception desk of the north wing next to the very long corridor by the lifts';
const LONG_MODEL = 'SIP-T46U-with-an-extraordinarily-long-model-name-nobody-planned-for-2026';
const RTL = 'مكتب الاستقبال الرئيسي في الطابق الثاني 📞🎉';
const MARKUP = '<script>alert(1)</script><b>bold</b>';
const UNBROKEN = 'Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

interface Fleet { plain: TestPhone; named: TestPhone; rtl: TestPhone; markup: TestPhone; models: TestPhone }

async function feed(url: string): Promise<Fleet> {
  const fleet: Fleet = {
    plain: new TestPhone(url, '001565000c01'),
    named: new TestPhone(url, '001565000c02', { ip: '192.168.100.200' }),
    rtl: new TestPhone(url, '001565000c03'),
    markup: new TestPhone(url, '001565000c04'),
    models: new TestPhone(url, '001565000c05', { model: LONG_MODEL, firmware: `108.86.0.20-${UNBROKEN}` }),
  };
  for (const phone of Object.values(fleet)) await phone.register(`${phone.mac.slice(-2)}01@pbx.example.com`);
  await fleet.models.register(`${UNBROKEN}@pbx.example.com`);
  const inventory: [TestPhone, Record<string, unknown>][] = [
    [fleet.named, { name: LONG_NAME, location: 'Building 7, floor 12, room 1204', groups: ['sales', 'front-desk-and-reception-and-everything-else'] }],
    [fleet.rtl, { name: RTL, location: 'الطابق الثاني', groups: ['دعم'] }],
    [fleet.markup, { name: MARKUP, location: MARKUP, groups: ['<i>g</i>'] }],
    [fleet.models, { name: UNBROKEN }],
  ];
  for (const [phone, body] of inventory) {
    const res = await fetch(`${url}/api/v1/phones/${phone.mac}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.text());
  }
  // Calls with hostile callers: one still ringing, one answered and ended, one missed, one in conversation.
  const ring = { call_id: 'c1', remote: 'sip:3001@pbx.example.com', display_remote: LONG_NAME };
  await fleet.named.send('incoming_call', ring);
  const done = { call_id: 'c2', remote: `sip:${UNBROKEN}@pbx.example.com`, display_remote: RTL };
  await fleet.rtl.send('incoming_call', done);
  await fleet.rtl.send('call_established', done);
  await fleet.rtl.send('call_terminated', done);
  const missed = { call_id: 'c3', remote: 'sip:3003@pbx.example.com', display_remote: MARKUP };
  await fleet.markup.send('incoming_call', missed);
  await fleet.markup.send('missed_call', missed);
  const talk = { call_id: 'c4', remote: 'sip:3004@pbx.example.com', display_remote: UNBROKEN };
  await fleet.models.send('outgoing_call', talk);
  await fleet.models.send('call_established', talk);
  await fleet.plain.send('dnd_on');
  await fleet.plain.send('always_fwd_on');
  // And phones as most fleets name them, beside the hostile ones.
  const ordinary = [
    ['001565000d01', 'Front desk', 'Lobby', 'SIP-T54W', ['front desk']],
    ['001565000d02', 'Sales 1', 'Floor 2', 'SIP-T46U', ['sales']],
    ['001565000d03', 'Sales 2', 'Floor 2', 'SIP-T46U', ['sales']],
    ['001565000d04', 'Support', 'Floor 3', 'SIP-T58W', ['support']],
  ] as const;
  for (const [mac, name, location, model, groups] of ordinary) {
    const phone = new TestPhone(url, mac, { model });
    await phone.register(`${mac.slice(-2)}02@pbx.example.com`);
    const res = await fetch(`${url}/api/v1/phones/${mac}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, location, groups }) });
    assert.equal(res.status, 200, await res.text());
    if (name === 'Sales 1') {
      const call = { call_id: 'd1', remote: 'sip:+4930123456@pbx.example.com', display_remote: 'Jane Doe' };
      await phone.send('incoming_call', call);
      await phone.send('call_established', call);
    }
  }
  return fleet;
}

/** `rgb(r, g, b)` as hue (degrees), saturation (0–1) and relative luminance (WCAG). */
function colour(css: string): { hue: number; sat: number; lum: number; css: string } {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css);
  assert.ok(m, `a colour: ${css}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => Number(v) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  const hue = d === 0 ? 0 : max === r ? (60 * ((g - b) / d) + 360) % 360 : max === g ? 60 * ((b - r) / d) + 120 : 60 * ((r - g) / d) + 240;
  const lin = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return { hue, sat: max === 0 ? 0 : d / max, lum: 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b), css };
}
const contrast = (a: { lum: number }, b: { lum: number }) => (Math.max(a.lum, b.lum) + 0.05) / (Math.min(a.lum, b.lum) + 0.05);
/** Hue within [from, to] degrees, going round through 0 when from > to. */
const hueIn = (c: { hue: number }, from: number, to: number) => (from <= to ? c.hue >= from && c.hue <= to : c.hue >= from || c.hue <= to);

/** Lets the page lay out what it just got (the board renders on an animation frame). */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await runInPage(page, () => new Promise((resolve) => {
    const frame = (globalThis as any).requestAnimationFrame;
    frame(() => frame(() => resolve(null)));
  }), null);
}

describe('layout of every page at 1920, 1280 and 800 px', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let hook: HookServer;
  let browser: Browser;
  let page: Page;
  let fleet: Fleet;

  before(async () => {
    // A destination that refuses with a long reason, so the Forwarding page shows failures.
    hook = await startHookServer(() => ({ status: 500, body: `${LONG_NAME} ${UNBROKEN}` }));
    server = await startReceiver({ webhook: [`${hook.url}/${UNBROKEN}`], forwarding: { schedule: [0], recordEveryMs: 10 } });
    fleet = await feed(server.url);
    await hook.waitFor(1);
    browser = await openBrowser({ width: WIDTHS[0], height: 1000 });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await hook?.close();
  });

  /** Opens a page at each width and collects what is wrong with it, named by width. */
  /** `name`: the docs' picture of the page (none for a second look at a page). */
  async function check(name: string | null, hash: string, ready: string, more?: (width: number) => Promise<string[]>): Promise<string[]> {
    const found: string[] = [];
    // Every width in the light colours, and the middle one in the dark colours too (a system set to dark).
    const runs = [...WIDTHS.map((width) => ({ width, scheme: 'light' as const })), { width: 1280, scheme: 'dark' as const }];
    try {
      for (const { width, scheme } of runs) {
        const where = `${width} px${scheme === 'dark' ? ', dark' : ''}`;
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height: 1000 });
        await page.goto(`${server.url}/${hash}`);
        await page.locator(ready).first().waitFor();
        await settle(page);
        for (const p of await layoutProblems(page)) found.push(`${where}: ${p}`);
        for (const p of (await more?.(width)) ?? []) found.push(`${where}: ${p}`);
        if (SCREENSHOTS && name && width === 1280 && scheme === 'light') {
          mkdirSync(SCREENSHOTS, { recursive: true });
          await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
        }
        // Go elsewhere between runs, so each draws the page from the start.
        await page.goto(`${server.url}/#/none`);
      }
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
    return found;
  }

  it('board', { timeout: 60_000 }, async () => {
    // A filter is sized for its choices, not stretched across the page by one long model name.
    const filters = async (width: number) => width < 1000 ? [] : (await page.locator('.toolbar select').evaluateAll((all) =>
      all.map((s: any) => [s.id, s.getBoundingClientRect().width]))).filter(([, w]) => Number(w) > 320).map(([id, w]) => `#${id} is ${Math.round(Number(w))} px wide`);
    assert.deepEqual(await check('board', '#/board', `.board .row[data-mac="${fleet.models.mac}"]`, filters), []);
  });

  it('phone page', { timeout: 60_000 }, async () => {
    assert.deepEqual(await check('phone', `#/phone/${fleet.named.mac}`, '.timeline li'), []);
    assert.deepEqual(await check(null, `#/phone/${fleet.models.mac}`, '.timeline li'), []);
  });

  it('calls', { timeout: 60_000 }, async () => {
    // Each call names its phone as the inventory does, however the two answers arrived.
    const named = async () => {
      const phones = await page.locator('table.calls tbody tr td:nth-child(2)').allInnerTexts();
      return phones.includes('Sales 1') ? [] : [`the call of Sales 1 shows its phone as ${JSON.stringify(phones)}`];
    };
    assert.deepEqual(await check('calls', '#/calls', 'table.calls tbody tr', named), []);
  });

  it('events', { timeout: 60_000 }, async () => {
    assert.deepEqual(await check('events', '#/events', 'table.events tbody tr'), []);
  });

  it('forwarding', { timeout: 60_000 }, async () => {
    assert.deepEqual(await check('forwarding', '#/forwarding', 'table.deliveries tbody tr'), []);
  });

  it('reports', { timeout: 60_000 }, async () => {
    assert.deepEqual(await check('reports', '#/reports', 'table[data-table]'), []);
  });

  it('set-up', { timeout: 60_000 }, async () => {
    assert.deepEqual(await check('setup', '#/setup', 'table.templates'), []);
  });

  it('presence colours on the board say what they mean, the same on badges and on the summary, light and dark', { timeout: 60_000 }, async () => {
    await page.setViewportSize({ width: 1280, height: 1000 });
    try {
      for (const scheme of ['light', 'dark'] as const) await presenceColours(scheme);
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  async function presenceColours(scheme: 'light' | 'dark'): Promise<void> {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${server.url}/#/board`);
    await page.locator('.board .vlist-rows .row').first().waitFor();
    // Every presence, drawn by the page's own stylesheet: a badge and a summary chip for each.
    const drawn = await runInPage(page, (presences: string[]) => {
      const doc = (globalThis as any).document;
      const win = globalThis as any;
      const out: Record<string, { badge: string; text: string; chip: string }> = {};
      for (const p of presences) {
        const badge = doc.createElement('span');
        badge.className = 'badge';
        badge.dataset.presence = p;
        const chip = doc.createElement('button');
        chip.className = 'chip';
        chip.dataset.presence = p;
        doc.body.append(badge, chip);
        out[p] = { badge: win.getComputedStyle(badge).backgroundColor, text: win.getComputedStyle(badge).color, chip: win.getComputedStyle(chip, '::before').backgroundColor };
        badge.remove();
        chip.remove();
      }
      return out;
    }, ['idle', 'ringing', 'dialing', 'talking', 'held', 'dnd', 'unregistered', 'offline']);
    const c = Object.fromEntries(Object.entries(drawn).map(([p, d]) => [p, colour(d.badge)]));
    for (const [p, d] of Object.entries(drawn)) {
      assert.equal(d.chip, d.badge, `${scheme}, ${p}: the summary's dot and the badge are one colour`);
      assert.ok(contrast(colour(d.text), c[p]) >= 4.5, `${scheme}, ${p}: the badge's words are readable on it (${d.text} on ${d.badge})`);
    }
    // Free is green; a phone wanting attention (ringing) is amber; busy in a call is red to magenta; do not
    // disturb is red-brown; no colour at all for a phone that cannot take calls (unregistered, offline).
    assert.ok(hueIn(c.idle, 90, 170) && c.idle.sat > 0.5, `${scheme}: idle is green: ${c.idle.css}`);
    assert.ok(hueIn(c.ringing, 15, 50) && c.ringing.sat > 0.5, `${scheme}: ringing is amber: ${c.ringing.css}`);
    assert.ok(hueIn(c.talking, 300, 15) && c.talking.sat > 0.5, `${scheme}: talking is red: ${c.talking.css}`);
    assert.ok(hueIn(c.dnd, 330, 30) && c.dnd.sat > 0.5, `${scheme}: do not disturb is red-brown: ${c.dnd.css}`);
    for (const p of ['unregistered', 'offline']) assert.ok(c[p].sat < 0.25, `${scheme}: ${p} is grey: ${c[p].css}`);
    // Each presence has a colour of its own.
    const all = Object.values(c).map((x) => x.css);
    assert.equal(new Set(all).size, all.length, `${scheme}: one colour per presence: ${all.join(', ')}`);
    // The stream's state in the header: live is green, a dropped stream red.
    const dot = async (status: string) => colour(await runInPage(page, (s: string) => {
      const el = (globalThis as any).document.createElement('span');
      el.className = 'stream-status';
      el.dataset.status = s;
      (globalThis as any).document.body.append(el);
      const css = (globalThis as any).getComputedStyle(el, '::before').backgroundColor;
      el.remove();
      return css;
    }, status));
    const live = await dot('live');
    const offline = await dot('offline');
    assert.ok(hueIn(live, 90, 170) && live.sat > 0.4, `${scheme}: a live stream is green: ${live.css}`);
    assert.ok(hueIn(offline, 340, 20) && offline.sat > 0.4, `${scheme}: an offline stream is red: ${offline.css}`);
  }

  it('call outcome colours are one per outcome, the same on the totals, the chart, its legend and the list', { timeout: 60_000 }, async () => {
    await page.setViewportSize({ width: 1280, height: 1000 });
    await page.goto(`${server.url}/#/calls`);
    await page.locator('table.calls tbody tr').first().waitFor();
    const seen = await runInPage(page, () => {
      const doc = (globalThis as any).document;
      const win = globalThis as any;
      const out: { outcome: string; where: string; colour: string }[] = [];
      for (const el of doc.querySelectorAll('.stat[data-outcome]')) out.push({ outcome: el.dataset.outcome, where: 'total', colour: win.getComputedStyle(el).borderLeftColor });
      for (const el of doc.querySelectorAll('.chart .bar[data-outcome]')) out.push({ outcome: el.dataset.outcome, where: 'bar', colour: win.getComputedStyle(el).fill });
      for (const el of doc.querySelectorAll('.legend .swatch')) out.push({ outcome: /outcome-(\w+)/.exec(el.className)?.[1] ?? '', where: 'legend', colour: win.getComputedStyle(el).backgroundColor });
      for (const el of doc.querySelectorAll('table.calls .outcome[data-outcome]')) out.push({ outcome: el.dataset.outcome, where: 'list', colour: win.getComputedStyle(el).borderLeftColor });
      return out;
    }, null);
    const byOutcome = new Map<string, Set<string>>();
    for (const s of seen) byOutcome.set(s.outcome, (byOutcome.get(s.outcome) ?? new Set()).add(s.colour));
    // The fleet made answered, missed and ongoing calls: each is on the totals, the chart and the list.
    for (const o of ['answered', 'missed', 'ongoing']) {
      assert.deepEqual([...new Set(seen.filter((s) => s.outcome === o).map((s) => s.where))].sort(), ['bar', 'legend', 'list', 'total'], o);
    }
    for (const [o, colours] of byOutcome) assert.equal(colours.size, 1, `${o} is one colour everywhere: ${[...colours].join(', ')}`);
    const of = (o: string) => colour([...byOutcome.get(o)!][0]);
    assert.ok(hueIn(of('answered'), 90, 170), `answered is green: ${of('answered').css}`);
    assert.ok(hueIn(of('missed'), 340, 15), `missed is red: ${of('missed').css}`);
    const legend = seen.filter((s) => s.where === 'legend').map((s) => s.colour);
    assert.equal(new Set(legend).size, legend.length, `one colour per outcome: ${legend.join(', ')}`);
  });

  it('no page error or markup from a name', { timeout: 10_000 }, async () => {
    assert.deepEqual(browser.problems, []);
  });
});
