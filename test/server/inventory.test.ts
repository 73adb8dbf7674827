/**
 * The phone inventory, forgetting phones, group filters, exports and reports through the API of a real
 * receiver (SQLite file; the PostgreSQL store's side is in test/store/postgres-inventory.test.ts).
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver } from './helpers/receiver.ts';
import { expectedFigures, MONDAY, planEvents, samplePlan } from './helpers/call-plan.ts';
import { describeEachStore, type StoreKind } from '../stores.ts';

const A = '001565000001';
const B = '001565000002';
const C = '001565000003';

/** A receiver whose clock the test sets before each request. */
async function clockedReceiver(store: StoreKind, dir?: string) {
  const clock = { now: MONDAY };
  const r = await startTestReceiver({ storeKind: store, now: () => clock.now, stateFlushMs: 50 }, dir);
  const send = async (mac: string, incident: string, vars: Record<string, string> = {}) => {
    const q = Object.entries({ mac, ...vars }).map(([k, v]) => `${k}=${v}`).join('&');
    const res = await r.ingest(`/actionurl/${incident}?${q}`);
    assert.equal(res.status, 200, `${incident}: ${res.body}`);
  };
  return { r, clock, send };
}

const json = (body: unknown) => ({ method: 'PATCH', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

describeEachStore('phone inventory and forgetting phones', { timeout: 60_000 }, (store) => {
  let t: Awaited<ReturnType<typeof clockedReceiver>>;
  before(async () => {
    t = await clockedReceiver(store);
    for (const mac of [A, B, C]) await t.send(mac, 'registered', { active_url: `sip:2${mac.slice(-2)}@pbx` });
  });
  after(() => t.r.cleanup());

  it('keeps a name, location and groups set with any MAC spelling, shown wherever the phone is, across a restart', async () => {
    const res = await t.r.api('/api/v1/phones/00-15-65-00-00-01', json({ name: 'Reception', location: 'Floor 1', groups: [' front desk ', 'sales', 'sales', ''] }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.name, 'Reception');
    assert.deepEqual(res.body.groups, ['front desk', 'sales']);
    const listed = (await t.r.api('/api/v1/phones')).body.phones.find((p: any) => p.mac === A);
    assert.equal(listed.location, 'Floor 1');
    assert.equal((await t.r.api(`/api/v1/phones/${A}`)).body.name, 'Reception');
    // Only the field given changes.
    assert.equal((await t.r.api(`/api/v1/phones/${A}`, json({ location: 'Floor 2' }))).body.name, 'Reception');

    const dir = t.r.dir;
    await t.r.stop();
    const again = await clockedReceiver(store, dir);
    try {
      const p = (await again.r.api(`/api/v1/phones/${A}`)).body;
      assert.deepEqual([p.name, p.location, p.groups], ['Reception', 'Floor 2', ['front desk', 'sales']]);
    } finally {
      await again.r.stop();
    }
    t = await clockedReceiver(store, dir);
  });

  it('refuses bad inventory input with a one-line reason and changes nothing', async () => {
    const before = (await t.r.api(`/api/v1/phones/${A}`)).body;
    for (const [body, pattern] of [
      [{ nmae: 'typo' }, /unknown field "nmae"/],
      [{ name: 'x'.repeat(101) }, /longer than 100/],
      [{ name: 'a\nb' }, /control character/],
      [{ groups: 5 }, /groups must be a list/],
      [{ groups: ['a;b'] }, /contains ";"/],
      [[1], /expected a JSON object/],
    ] as [unknown, RegExp][]) {
      const res = await t.r.api(`/api/v1/phones/${A}`, json(body));
      assert.equal(res.status, 400);
      assert.match(res.body.error, pattern);
      assert.doesNotMatch(res.body.error, /\n/);
    }
    const notJson = await t.r.api(`/api/v1/phones/${A}`, { method: 'PATCH', body: '{name:' });
    assert.equal(notJson.status, 400);
    const crossSite = await t.r.api(`/api/v1/phones/${A}`, { ...json({ name: 'Evil' }), headers: { Origin: 'http://evil.example' } });
    assert.equal(crossSite.status, 403);
    assert.deepEqual((await t.r.api(`/api/v1/phones/${A}`)).body.name, before.name);
  });

  it('exports the inventory as CSV and imports it back, any MAC spelling, hostile names guarded', async () => {
    const csv = 'MAC,Name,Groups,Location\r\n00:15:65:00:00:02,"=cmd|\' /C calc\'!A0",sales;support,"Floor 3, east"\n0015.6500.0003,Lab,,\n';
    const imported = await t.r.api('/api/v1/inventory', { method: 'POST', body: csv, headers: { 'Content-Type': 'text/csv' } });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.equal(imported.body.imported, 2);
    const b = (await t.r.api(`/api/v1/phones/${B}`)).body;
    assert.deepEqual([b.name, b.location, b.groups], ["=cmd|' /C calc'!A0", 'Floor 3, east', ['sales', 'support']]);

    const exported = await t.r.api('/api/v1/inventory?format=csv');
    assert.match(exported.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (exported.body as string).split('\r\n');
    assert.equal(lines[0], 'mac,name,location,groups');
    assert.ok(lines.includes(`${B},'=cmd|' /C calc'!A0,"Floor 3, east",sales;support`), lines.join('\n'));

    // Round trip: what was exported imports to the same inventory.
    const beforeRoundTrip = (await t.r.api('/api/v1/inventory')).body;
    const back = await t.r.api('/api/v1/inventory', { method: 'POST', body: exported.body, headers: { 'Content-Type': 'text/csv' } });
    assert.equal(back.status, 200);
    assert.deepEqual((await t.r.api('/api/v1/inventory')).body, beforeRoundTrip);
  });

  it('imports nothing from a file with a bad line, and says which line', async () => {
    const before = (await t.r.api('/api/v1/inventory')).body;
    const res = await t.r.api('/api/v1/inventory', { method: 'POST', body: `mac,name\n${C},Changed\nnot-a-mac,X\n${C},Twice\n`, headers: { 'Content-Type': 'text/csv' } });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /^nothing imported: line 3: "not-a-mac" is not a MAC address \(and 1 more\)$/);
    assert.deepEqual(res.body.problems, ['line 3: "not-a-mac" is not a MAC address', `line 4: ${C} is listed twice`]);
    assert.deepEqual((await t.r.api('/api/v1/inventory')).body, before);
  });

  it('filters phones, calls and events by group', async () => {
    t.clock.now = MONDAY + 3_600_000;
    for (const mac of [A, B, C]) {
      await t.send(mac, 'incoming_call', { call_id: '1', remote: 'sip:9@pbx' });
      await t.send(mac, 'missed_call', { call_id: '1', remote: 'sip:9@pbx' });
    }
    const phones = (await t.r.api('/api/v1/phones?group=sales')).body.phones.map((p: any) => p.mac).sort();
    assert.deepEqual(phones, [A, B]);
    const calls = (await t.r.api('/api/v1/calls?group=support')).body.calls.map((c: any) => c.mac);
    assert.deepEqual(calls, [B]);
    const events = (await t.r.api('/api/v1/events?group=front%20desk')).body.events;
    assert.ok(events.length >= 3 && events.every((e: any) => e.mac === A));
    assert.deepEqual((await t.r.api('/api/v1/calls?group=nobody')).body.calls, []);
  });

  it('forgets a phone but keeps its events; a restart does not bring it back; its next event starts it anew', async () => {
    const eventsBefore = (await t.r.api(`/api/v1/events?mac=${C}`)).body.events.length;
    assert.ok(eventsBefore > 0);
    const res = await t.r.api(`/api/v1/phones/${C}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal((await t.r.api(`/api/v1/phones/${C}`)).status, 404);
    assert.ok(!(await t.r.api('/api/v1/phones')).body.phones.some((p: any) => p.mac === C));
    assert.equal((await t.r.api(`/api/v1/events?mac=${C}`)).body.events.length, eventsBefore);
    assert.equal((await t.r.api(`/api/v1/phones/${C}`, { method: 'DELETE' })).status, 404);

    const dir = t.r.dir;
    await t.r.stop();
    t = await clockedReceiver(store, dir);
    assert.equal((await t.r.api(`/api/v1/phones/${C}`)).status, 404, 'a restart replayed the forgotten phone');
    assert.equal((await t.r.api(`/api/v1/events?mac=${C}`)).body.events.length, eventsBefore);

    t.clock.now = MONDAY + 7_200_000;
    await t.send(C, 'registered', { active_url: 'sip:299@pbx' });
    const back = (await t.r.api(`/api/v1/phones/${C}`)).body;
    assert.equal(back.first_seen, new Date(MONDAY + 7_200_000).toISOString());
    assert.equal(back.name, '');
    assert.deepEqual(back.accounts.map((a: any) => a.id), ['299@pbx']);
  });

  it('forgets a phone with its events and calls when asked to purge them', async () => {
    assert.equal((await t.r.api(`/api/v1/phones/${B}?purge=all`, { method: 'DELETE' })).status, 400);
    const res = await t.r.api(`/api/v1/phones/${B}?purge=events`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.deepEqual((await t.r.api(`/api/v1/events?mac=${B}`)).body.events, []);
    assert.deepEqual((await t.r.api(`/api/v1/calls?mac=${B}`)).body.calls, []);
    assert.ok((await t.r.api(`/api/v1/events?mac=${A}`)).body.events.length > 0, 'other phones keep theirs');
  });
});

describeEachStore('exports and reports', { timeout: 120_000 }, (store) => {
  let t: Awaited<ReturnType<typeof clockedReceiver>>;
  const plan = samplePlan([A, B, C]);
  before(async () => {
    t = await clockedReceiver(store);
    for (const mac of [A, B, C]) {
      t.clock.now = MONDAY;
      await t.send(mac, 'registered', { active_url: `sip:20${mac.slice(-1)}@pbx.example.com` });
    }
    await t.r.api(`/api/v1/phones/${A}`, json({ name: 'Reception', groups: ['sales'] }));
    await t.r.api(`/api/v1/phones/${B}`, json({ name: 'Desk B', groups: ['sales', 'support'] }));
    await t.r.api(`/api/v1/phones/${C}`, json({ name: 'Lab', groups: ['support'] }));
    for (const e of planEvents(plan)) {
      t.clock.now = e.at;
      await t.send(e.mac, e.incident, { ...e.vars, display_local: `Ext ${e.mac.slice(-1)}` });
    }
    t.clock.now = MONDAY + 3 * 86_400_000;
  });
  after(() => t.r.cleanup());

  const period = `from=${new Date(MONDAY).toISOString()}&to=${new Date(MONDAY + 2 * 86_400_000).toISOString()}`;

  it('reports per phone what the calls add up to', async () => {
    const res = await t.r.api(`/api/v1/reports/phones?${period}&sl=20`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const mac of [A, B, C]) {
      const row = res.body.phones.find((p: any) => p.mac === mac);
      const { mac: _m, name: _n, location: _l, groups: _g, ...figures } = row;
      assert.deepEqual(figures, expectedFigures(plan.filter((c) => c.mac === mac), 20), mac);
    }
  });

  it('reports per account and group, and any period (edges in hours, middle in days)', async () => {
    const accounts = (await t.r.api(`/api/v1/reports/accounts?${period}&sl=10`)).body.accounts;
    const a201 = accounts.find((a: any) => a.account === '201@pbx.example.com');
    assert.equal(a201.extension, '201');
    assert.equal(a201.display_name, 'Ext 1');
    const { account: _a, extension: _e, display_name: _d, phones: _p, ...figures } = a201;
    assert.deepEqual(figures, expectedFigures(plan.filter((c) => c.account === '201@pbx.example.com'), 10));

    const groups = (await t.r.api(`/api/v1/reports/groups?${period}`)).body.groups;
    const support = groups.find((g: any) => g.group === 'support');
    const { group: _g, phones, ...sf } = support;
    assert.equal(phones, 2);
    assert.deepEqual(sf, expectedFigures(plan.filter((c) => c.mac === B || c.mac === C), 20));

    // From Monday 09:30 to Tuesday 10:00 (hour-rounded: 09:00 to 10:00 the next day).
    const from = MONDAY + 9.5 * 3_600_000;
    const to = MONDAY + 34 * 3_600_000;
    const part = (await t.r.api(`/api/v1/reports/phones?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)).body;
    assert.equal(part.from, new Date(MONDAY + 9 * 3_600_000).toISOString());
    const inPeriod = plan.filter((c) => c.start >= MONDAY + 9 * 3_600_000 && c.start < to);
    for (const row of part.phones) {
      const { mac, name: _n, location: _l, groups: _gg, ...f } = row;
      assert.deepEqual(f, expectedFigures(inPeriod.filter((c) => c.mac === mac), 20), mac);
    }
  });

  it('draws the busiest hours per weekday in the time zone asked for', async () => {
    // Etc/GMT-2 is UTC+2 all year.
    const res = await t.r.api(`/api/v1/reports/heatmap?${period}&tz=Etc/GMT-2`);
    assert.equal(res.status, 200);
    const expected = new Map<string, number>();
    for (const c of plan) {
      const local = new Date(c.start + 2 * 3_600_000);
      const key = `${(local.getUTCDay() + 6) % 7}/${local.getUTCHours()}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const got = new Map<string, number>(res.body.cells.filter((c: any) => c.calls > 0).map((c: any) => [`${c.weekday}/${c.hour}`, c.calls]));
    assert.deepEqual(got, expected);
    assert.equal(res.body.cells.length, 7 * 24);
    const bad = await t.r.api('/api/v1/reports/heatmap?tz=Mars/Olympus');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /not a time zone/);
    assert.equal((await t.r.api('/api/v1/reports/phones?sl=7')).status, 400);
    assert.equal((await t.r.api('/api/v1/reports/phones?from=2026-01-02&to=2026-01-01')).status, 400);
  });

  it('exports calls as CSV with formulas guarded, and as JSON lines, for a range and a group', async () => {
    const csv = await t.r.api(`/api/v1/calls?format=csv&group=support&${period.replace('from', 'since').replace('to=', 'until=')}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="calls\.csv"/);
    const lines = (csv.body as string).trimEnd().split('\r\n');
    assert.equal(lines[0].split(',')[0], 'id');
    assert.equal(lines.length - 1, plan.filter((c) => c.mac === B || c.mac === C).length);
    assert.ok(lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil"")"`)), 'formula guarded and quoted');

    const jsonl = await t.r.api(`/api/v1/calls?format=jsonl&mac=${A}`);
    const rows = (jsonl.body as string).trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, plan.filter((c) => c.mac === A).length);
    assert.ok(rows.every((r) => r.mac === A && r.phone_name === 'Reception'));
    assert.equal((await t.r.api('/api/v1/calls?format=xml')).status, 400);
  });

  it('describes every new route in the OpenAPI document', async () => {
    const doc = (await t.r.api('/api/v1/openapi.json')).body;
    const want: [string, string][] = [
      ['/api/v1/phones/{mac}', 'patch'], ['/api/v1/phones/{mac}', 'delete'], ['/api/v1/inventory', 'get'], ['/api/v1/inventory', 'post'],
      ['/api/v1/reports/phones', 'get'], ['/api/v1/reports/accounts', 'get'], ['/api/v1/reports/groups', 'get'], ['/api/v1/reports/heatmap', 'get'],
    ];
    for (const [path, method] of want) assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
    for (const path of ['/api/v1/calls', '/api/v1/events']) {
      const names = doc.paths[path].get.parameters.map((p: any) => p.name);
      for (const n of ['group', 'until', 'format']) assert.ok(names.includes(n), `${path} ${n}`);
    }
  });

  it('streams an export larger than one page in order, each event once', async () => {
    t.clock.now = MONDAY + 4 * 86_400_000;
    const many = 2600;
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < many; i++) {
      batch.push(t.r.ingest(`/actionurl/dnd_on?mac=${A}&n=${i}`));
      if (batch.length === 50) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    const res = await fetch(`${t.r.server.url}/api/v1/events?format=jsonl&incident=dnd_on`);
    const reader = res.body!.getReader();
    let chunks = 0;
    let text = '';
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    const ids = text.trimEnd().split('\n').map((l) => JSON.parse(l).id as number);
    assert.equal(ids.length, many);
    assert.equal(new Set(ids).size, many);
    assert.ok(ids.every((id, i) => i === 0 || id < ids[i - 1]), 'newest first');
    assert.ok(chunks > 1, 'written in chunks');
  });
});
