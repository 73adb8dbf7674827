/**
 * The metrics that show what the SQLite writer does per commit and how far the stored phone states trail
 * the events: `actionurl_state_checkpoint_lag_events`, `actionurl_sqlite_write_transactions_total`,
 * `actionurl_sqlite_write_statements_total`, read from /metrics as a scraper reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { until } from '../forwarding/helpers/until.ts';
import { sendRaw } from './helpers/raw-client.ts';

async function scrape(r: TestReceiver): Promise<Record<string, number>> {
  const { status, body } = await r.api('/metrics');
  assert.equal(status, 200);
  const values: Record<string, number> = {};
  for (const m of (body as string).matchAll(/^(actionurl_state_checkpoint_lag_events|actionurl_sqlite_write_\w+_total) (\S+)$/gm)) {
    values[m[1]] = Number(m[2]);
  }
  return values;
}

const lag = async (r: TestReceiver) => (await scrape(r)).actionurl_state_checkpoint_lag_events;

test('the checkpoint lag counts the events since the last checkpoint and is 0 once one is stored', { timeout: 60_000 }, async () => {
  // No checkpoint by the clock during the test: only the calls list asks for one.
  const r = await startTestReceiver({ stateFlushMs: 600_000 });
  try {
    assert.equal(await lag(r), 0);
    for (let i = 0; i < 12; i++) assert.equal((await r.ingest(`/actionurl/${i % 2 ? 'dnd_off' : 'dnd_on'}?mac=001565aa0001`)).status, 200);
    assert.equal(await lag(r), 12);
    // The calls list writes the pending checkpoint before it answers.
    assert.equal((await r.api('/api/v1/calls')).status, 200);
    assert.equal(await lag(r), 0);
  } finally {
    await r.cleanup();
  }
});

test('under load the checkpoint lag stays within what was sent and goes back to 0 once the load stops', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ stateFlushMs: 100 });
  try {
    let sent = 0;
    let highest = 0;
    for (let round = 0; round < 10; round++) {
      let reqs = '';
      for (let i = 0; i < 40; i++) reqs += `GET /actionurl/dnd_on?mac=001565bb${String(i).padStart(4, '0')} HTTP/1.1\r\n\r\n`;
      const { responses } = await sendRaw(r.port, reqs, { expect: 40 });
      assert.deepEqual(responses.map((x) => x.status), Array(40).fill(200));
      sent += 40;
      const now = await lag(r);
      assert.ok(now >= 0 && now <= sent, `lag ${now} after ${sent} events`);
      highest = Math.max(highest, now);
    }
    assert.ok(highest > 0, 'the lag never showed events waiting for a checkpoint');
    await until('the lag back to 0 after the load', async () => (await lag(r)) === 0, 10_000);
  } finally {
    await r.cleanup();
  }
});

test('the SQLite writer counts one transaction and one statement per event sent alone, and a checkpoint as its own', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ stateFlushMs: 600_000 });
  try {
    const before = await scrape(r);
    // One at a time: each waits for its 200, so each is a transaction of its own holding one insert.
    for (let i = 0; i < 5; i++) assert.equal((await r.ingest('/actionurl/dnd_on?mac=001565cc0001')).status, 200);
    const events = await scrape(r);
    assert.equal(events.actionurl_sqlite_write_transactions_total - before.actionurl_sqlite_write_transactions_total, 5);
    assert.equal(events.actionurl_sqlite_write_statements_total - before.actionurl_sqlite_write_statements_total, 5);
    // The checkpoint: one transaction writing the one phone and the checkpoint's event id.
    assert.equal((await r.api('/api/v1/calls')).status, 200);
    const checkpoint = await scrape(r);
    assert.equal(checkpoint.actionurl_sqlite_write_transactions_total - events.actionurl_sqlite_write_transactions_total, 1);
    assert.equal(checkpoint.actionurl_sqlite_write_statements_total - events.actionurl_sqlite_write_statements_total, 2);
  } finally {
    await r.cleanup();
  }
});
