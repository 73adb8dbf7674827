/**
 * The pure helpers of the browser code (no DOM), loaded as the browser loads them: plain ES modules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// A computed specifier: these are plain JavaScript modules without type declarations.
const load = (name: string): Promise<any> => import(new URL(`../../src/web/static/js/${name}`, import.meta.url).href);
const format = await load('format.js');
const api = await load('api.js');

describe('dashboard formatting helpers', { timeout: 180_000 }, () => {
  it('counts as answered the outcomes the receiver counts as answered, and knows every outcome the API sends', async () => {
    const { ANSWERED_OUTCOMES } = await import('../../src/domain/answered.ts');
    const { OUTCOMES } = await import('../../src/server/api/rest.ts');
    assert.deepEqual(format.OUTCOMES, [...OUTCOMES]);
    for (const o of OUTCOMES) assert.equal(format.countsAsAnswered(o), ANSWERED_OUTCOMES.includes(o), o);
  });

  it('reads the times the API sends', () => {
    assert.equal(format.toMs('2026-01-31T08:00:00.000Z'), Date.UTC(2026, 0, 31, 8));
    assert.equal(format.toMs(1769846400000), 1769846400000);
    assert.equal(format.toMs(1769846400), 1769846400000);
    assert.ok(Number.isNaN(format.toMs(null)));
    assert.ok(Number.isNaN(format.toMs('')));
  });

  it('formats durations and ages', () => {
    assert.equal(format.formatDuration(7_000), '0:07');
    assert.equal(format.formatDuration(750_000), '12:30');
    assert.equal(format.formatDuration(3_723_000), '1:02:03');
    assert.equal(format.formatDuration(-1), '–');
    const t = Date.UTC(2026, 0, 31, 8);
    assert.equal(format.formatAgo(t, t + 5_000), '5 s ago');
    assert.equal(format.formatAgo(new Date(t).toISOString(), t + 3 * 3_600_000), '3 h ago');
  });

  it('accepts MACs in every common spelling and shows them with colons', () => {
    for (const m of ['00:15:65:AA:BB:CC', '00-15-65-aa-bb-cc', '0015.65aa.bbcc', '001565AABBCC']) {
      assert.equal(format.normalizeMac(m), '001565aabbcc', m);
    }
    assert.equal(format.normalizeMac('hello'), '');
    assert.equal(format.formatMac('001565aabbcc'), '00:15:65:aa:bb:cc');
  });

  it('names the other party of a call by name and number', () => {
    assert.equal(format.callParty({ display_remote: 'Jane', remote: 'sip:300@pbx' }), 'Jane (300@pbx)');
    assert.equal(format.callParty({ display_remote: '', remote: 'sip:300@pbx' }), '300@pbx');
    assert.equal(format.callParty({ display_remote: '300@pbx', remote: 'sip:300@pbx' }), '300@pbx');
    assert.equal(format.callParty(null), '');
  });

  it('turns camelCase state into the API shape, leaving what the phone sent alone', () => {
    const shaped = api.apiShape({
      mac: '001565aabbcc', lastSeen: 1, forward: { noAnswer: true },
      calls: [{ callId: '1', displayRemote: 'X' }], vars: { callerID: 'keep' },
    });
    assert.deepEqual(shaped, {
      mac: '001565aabbcc', last_seen: 1, forward: { no_answer: true },
      calls: [{ call_id: '1', display_remote: 'X' }], vars: { callerID: 'keep' },
    });
  });
});
