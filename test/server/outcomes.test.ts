/**
 * One outcome per call, everywhere: the call log, the webhook's call.ended and the reports agree on whether
 * a call was answered. An answered call whose blind transfer failed lost its caller: it is `failed` in the
 * call log, and the reports do not count it as answered (docs/api.md, "Reports": answered means the outcome
 * `answered` or `transferred`). On both stores, through a real receiver's ingest path.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestReceiver } from './helpers/receiver.ts';
import { startHookServer } from '../forwarding/helpers/hook-server.ts';
import { describeEachStore } from '../stores.ts';

const MAC = '001565000a01';
const MONDAY = Date.UTC(2026, 10, 2);
const H = 3_600_000;

/** Each call's incidents and the outcome the call log must give it (docs/vendors.md, common flows). */
const FLOWS: { name: string; outcome: string; incidents: string[]; direction?: 'outgoing' }[] = [
  { name: 'answered, blind transfer failed', outcome: 'failed', incidents: ['incoming_call', 'call_established', 'transfer_call', 'blind_transfer_call', 'transfer_failed', 'call_terminated'] },
  { name: 'answered, blind transfer finished', outcome: 'transferred', incidents: ['incoming_call', 'call_established', 'transfer_call', 'blind_transfer_call', 'transfer_finished', 'call_terminated'] },
  { name: 'answered', outcome: 'answered', incidents: ['incoming_call', 'call_established', 'call_terminated'] },
  { name: 'missed', outcome: 'missed', incidents: ['incoming_call', 'missed_call'] },
  { name: 'outgoing, answered, blind transfer failed', outcome: 'failed', direction: 'outgoing', incidents: ['outgoing_call', 'call_established', 'transfer_call', 'blind_transfer_call', 'transfer_failed', 'call_terminated'] },
  { name: 'outgoing, answered', outcome: 'answered', direction: 'outgoing', incidents: ['outgoing_call', 'call_established', 'call_terminated'] },
];
/** The outcomes the reports count as answered, as docs/api.md defines it. */
const ANSWERED = ['answered', 'transferred'];

describeEachStore('one definition of an answered call', { timeout: 60_000 }, (store) => {
  let r: Awaited<ReturnType<typeof startTestReceiver>>;
  let hook: Awaited<ReturnType<typeof startHookServer>>;
  const clock = { now: MONDAY };
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-outcomes-'));

  before(async () => {
    hook = await startHookServer();
    const file = join(dir, 'forward.json');
    writeFileSync(file, JSON.stringify({ destinations: [{ name: 'conclusions', url: hook.url, events: ['conclusions'] }] }));
    r = await startTestReceiver({ storeKind: store, now: () => clock.now, stateFlushMs: 50, forward: file, forwarding: { schedule: [0, 50], recordEveryMs: 10 } });
    const send = async (incident: string, vars: Record<string, string>) => {
      const q = Object.entries({ mac: MAC, ...vars }).map(([k, v]) => `${k}=${v}`).join('&');
      assert.equal((await r.ingest(`/actionurl/${incident}?${q}`)).status, 200, incident);
    };
    await send('registered', { active_url: 'sip:201@pbx.example.com' });
    for (const [i, flow] of FLOWS.entries()) {
      clock.now = MONDAY + 9 * H + i * 600_000;
      for (const incident of flow.incidents) {
        clock.now += 5_000;
        await send(incident, { call_id: String(i + 1), remote: `sip:30${i}@pbx.example.com`, local: 'sip:201@pbx.example.com' });
      }
    }
    clock.now = MONDAY + 24 * H;
  });
  after(async () => {
    await r.cleanup();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the call log gives each flow its outcome, and the webhook says the same', async () => {
    const calls = (await r.api(`/api/v1/calls?mac=${MAC}`)).body.calls as { call_id: string; outcome: string; answered_at: string | null }[];
    for (const [i, flow] of FLOWS.entries()) {
      const c = calls.find((x) => x.call_id === String(i + 1));
      assert.equal(c?.outcome, flow.outcome, flow.name);
    }
    // The failed transfers were answered first: the case where "answered" could be read two ways.
    assert.ok(calls.find((x) => x.call_id === '1')?.answered_at);
    for (const [i, flow] of FLOWS.entries()) {
      const ended = await hook.waitForMatch((x) => x.json.type === 'call.ended' && (x.json.data as { call_id: string }).call_id === String(i + 1));
      assert.equal((ended.json.data as { outcome: string }).outcome, flow.outcome, `webhook: ${flow.name}`);
    }
  });

  it('the reports count as answered exactly the calls the call log calls answered or transferred', async () => {
    const calls = (await r.api(`/api/v1/calls?mac=${MAC}`)).body.calls as { direction: string; outcome: string; started_at: string; answered_at: string | null; ended_at: string }[];
    const answered = (direction: string) => calls.filter((c) => c.direction === direction && ANSWERED.includes(c.outcome));
    const period = `from=${new Date(MONDAY).toISOString()}&to=${new Date(MONDAY + 24 * H).toISOString()}`;
    const row = (await r.api(`/api/v1/reports/phones?${period}&sl=60`)).body.phones.find((p: { mac: string }) => p.mac === MAC);
    assert.equal(row.answered_in, answered('incoming').length);
    assert.equal(row.answered_out, answered('outgoing').length);
    assert.equal(row.calls_in, calls.filter((c) => c.direction === 'incoming').length);
    assert.equal(row.answer_rate, answered('incoming').length / row.calls_in);
    // Ring time over the answered incoming calls; talk time over the answered calls of both directions.
    const ms = (c: { started_at: string; answered_at: string | null }) => Date.parse(c.answered_at!) - Date.parse(c.started_at);
    const ring = answered('incoming').reduce((s, c) => s + ms(c), 0) / answered('incoming').length / 1000;
    assert.equal(row.average_ring_seconds, ring);
    const talk = [...answered('incoming'), ...answered('outgoing')].reduce((s, c) => s + Date.parse(c.ended_at) - Date.parse(c.answered_at!), 0) / 1000;
    assert.equal(row.talk_seconds, talk);
    const heat = (await r.api(`/api/v1/reports/heatmap?${period}&tz=UTC`)).body.cells.filter((c: { calls: number }) => c.calls > 0);
    assert.equal(heat.reduce((s: number, c: { answered: number }) => s + c.answered, 0), answered('incoming').length + answered('outgoing').length);
  });
});
