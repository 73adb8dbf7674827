/**
 * A receiver started on its journal (PostgreSQL away at start), without sockets: what it answers phones and
 * everyone else, what it keeps (and how much of a flood), and how the kept requests are handed to ingest
 * once the database is there: in order, with their own time, a chunk that could not be stored kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Journal } from '../../src/store/journal.ts';
import { createStandby, replayHeld } from '../../src/server/standby.ts';
import { NOT_STORED } from '../../src/server/ingest.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';

const TOKEN = 'standby-ingest-token';

function request(target: string, remoteAddress = '10.0.0.7'): HttpRequest {
  const path = target.split('?')[0];
  return {
    method: 'GET', rawTarget: Buffer.from(target), path, query: new URLSearchParams(target.split('?')[1] ?? ''),
    headers: Object.create(null), httpVersion: 'HTTP/1.1', body: Buffer.alloc(0), remoteAddress, receivedAt: performance.now(),
  };
}

function answer(): HttpResponse & { status: number; body: string; headers: Record<string, string> } {
  const res = {
    status: 0, body: '', headers: {} as Record<string, string>,
    send(status: number, body: string | Buffer = '', headers: Record<string, string> = {}) {
      Object.assign(res, { status, body: String(body), headers });
    },
    json(status: number, value: unknown, headers: Record<string, string> = {}) {
      Object.assign(res, { status, body: JSON.stringify(value), headers });
    },
    stream(): never {
      throw new Error('no stream');
    },
    get sent() {
      return res.status !== 0;
    },
  };
  return res;
}

function standbyOn(journal: Journal, clock: { at: number }, maxRefusalsHeld?: number) {
  return createStandby({
    journal, settings: { token: TOKEN }, now: () => clock.at, reason: () => 'PostgreSQL at db:5432 refused the connection',
    onError: (err) => assert.fail(String(err)), ...(maxRefusalsHeld !== undefined ? { maxRefusalsHeld } : {}),
  });
}

test('phones are answered and kept; refusals answered with their reason and kept for the record; the rest is told the receiver is starting', { timeout: 10_000 }, async () => {
  const journal = new Journal(':memory:');
  try {
    const clock = { at: 1_000 };
    const { handler } = standbyOn(journal, clock);
    const ok = answer();
    await handler(request(`/actionurl/incoming_call?mac=00:15:65:00:00:01&token=${TOKEN}&display_remote=Ana`), ok);
    assert.equal(ok.status, 200);
    const wrong = answer();
    clock.at = 2_000;
    await handler(request('/actionurl/incoming_call?mac=001565000001&token=guess'), wrong);
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body, 'wrong token\n');
    const api = answer();
    await handler(request('/api/v1/events'), api);
    assert.equal(api.status, 503);
    assert.match(JSON.parse(api.body).error, /starting: PostgreSQL at db:5432 refused the connection/);
    assert.equal(api.headers['Retry-After'], '5');
    const health = answer();
    await handler(request('/healthz'), health);
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'degraded', store: 'postgres', starting: true, error: 'PostgreSQL at db:5432 refused the connection', held: 2 });

    const kept = journal.oldestHeld(10);
    assert.deepEqual(kept.map((k) => [k.receivedAt, k.sourceIp, k.refusal?.status]), [[1_000, '10.0.0.7', undefined], [2_000, '10.0.0.7', 403]]);
    assert.equal(kept[0].rawTarget.toString(), `/actionurl/incoming_call?mac=00:15:65:00:00:01&token=${TOKEN}&display_remote=Ana`, 'kept byte for byte');
  } finally {
    journal.close();
  }
});

test('a flood of refused requests keeps only so many for the record; accepted events are all kept', { timeout: 10_000 }, async () => {
  const journal = new Journal(':memory:');
  try {
    const standby = standbyOn(journal, { at: 5 }, 3);
    for (let i = 0; i < 50; i++) await standby.handler(request(`/actionurl/dnd_on?mac=001565000001&token=guess${i}`), answer());
    for (let i = 0; i < 20; i++) await standby.handler(request(`/actionurl/dnd_on?mac=001565000001&token=${TOKEN}&n=${i}`), answer());
    assert.equal(journal.held, 3 + 20);
    assert.equal(standby.refusalsDropped(), 47);
  } finally {
    journal.close();
  }
});

test('kept requests reach ingest in order with the time each came; refusals go to the record; a chunk not stored stays kept', { timeout: 10_000 }, async () => {
  const journal = new Journal(':memory:');
  try {
    const clock = { at: 0 };
    const { handler } = standbyOn(journal, clock);
    for (let i = 0; i < 7; i++) {
      clock.at = 100 + i;
      await handler(request(i === 3 ? '/actionurl/dnd_on?mac=001565000001' : `/actionurl/dnd_on?mac=001565000001&token=${TOKEN}&n=${i}`), answer());
    }
    const replayClock = { at: 0 };
    const seen: string[] = [];
    let failOnce = true;
    const ingest = (req: HttpRequest, res: HttpResponse) => {
      const n = new URLSearchParams(req.rawTarget.toString().split('?')[1]).get('n')!;
      seen.push(`${n}@${replayClock.at}`);
      if (n === '5' && failOnce) {
        failOnce = false;
        res.send(503, NOT_STORED);
        return;
      }
      res.send(200, 'OK\n');
    };
    const records: string[] = [];
    const swapped: number[] = [];
    const run = () => replayHeld({
      journal, ingest, clock: replayClock, chunk: 4,
      recordRefusal: async (row, result) => void records.push(`${result}@${row.receivedAt}:${row.rawTarget.toString()}`),
      redact: (t) => Buffer.from(t.toString().replace(TOKEN, '***')),
      onEmpty: () => swapped.push(journal.held),
    });
    await assert.rejects(run(), /could not be stored yet/);
    assert.deepEqual(seen, ['0@100', '1@101', '2@102', '4@104', '5@105', '6@106']);
    assert.deepEqual(records, ['missing_token@103:/actionurl/dnd_on?mac=001565000001']);
    assert.equal(journal.held, 3, 'the first chunk of four is forgotten, the one that failed is kept');
    assert.deepEqual(swapped, []);

    seen.length = 0;
    assert.deepEqual(await run(), { replayed: 3, refused: 0 });
    assert.deepEqual(seen, ['4@104', '5@105', '6@106']);
    assert.deepEqual(swapped, [0], 'handed over once nothing is left');
  } finally {
    journal.close();
  }
});
