/**
 * The plans SQLite picks for the reads the API makes (EXPLAIN QUERY PLAN), so a change in a query or an index
 * cannot quietly turn a page of 100 into a walk of every row of a log of millions. The receiver never runs
 * ANALYZE, so the planner decides from the schema alone: an empty database plans as a full one does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrate } from '../../src/store/sqlite-schema.ts';
import { SqliteReads } from '../../src/store/sqlite-reads.ts';

/** The plans of the statements one read ran, one line per statement. */
function plansOf(read: (reads: SqliteReads) => unknown): string[] {
  const db = new Database(':memory:');
  migrate(db);
  const ran: { sql: string; args: unknown[] }[] = [];
  // Records every statement the reads run, and its arguments, on the way through.
  const recording = new Proxy(db, {
    get(target, key) {
      if (key !== 'prepare') return Reflect.get(target, key, target) as unknown;
      return (sql: string) => {
        const st = target.prepare(sql);
        const record = (method: 'all' | 'get') => (...args: unknown[]) => {
          ran.push({ sql, args });
          return st[method](...args);
        };
        return { all: record('all'), get: record('get') };
      };
    },
  });
  read(new SqliteReads(recording));
  const plans = ran.map(({ sql, args }) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | '));
  db.close();
  return plans;
}

const HOUR = 3_600_000;

describe('query plans of the API reads', { timeout: 60_000 }, () => {
  test('events: each filter walks an index or the ids between bounds, never every row, and never sorts', () => {
    const bounded = [
      (r: SqliteReads) => r.events({ limit: 100 }),
      (r: SqliteReads) => r.events({ limit: 100, before: 5000 }),
      (r: SqliteReads) => r.events({ limit: 100, incident: 'dnd_on' }),
      (r: SqliteReads) => r.events({ limit: 100, callId: '42' }),
      (r: SqliteReads) => r.events({ limit: 100, since: Date.now() - HOUR }),
      (r: SqliteReads) => r.events({ limit: 100, until: Date.now() - HOUR }),
      (r: SqliteReads) => r.events({ limit: 100, since: 1, until: 2 }),
      (r: SqliteReads) => r.events({ limit: 100, incident: 'dnd_on', since: 1, until: 2, before: 9 }),
      (r: SqliteReads) => r.eventsAfter(10, 100),
      (r: SqliteReads) => r.eventsAfter(10, 100, { incident: 'dnd_on' }),
    ];
    for (const read of bounded) {
      const plans = plansOf(read);
      for (const plan of plans) {
        assert.doesNotMatch(plan, /TEMP B-TREE/, `no sort: ${plan}`);
        // A bare SCAN is the newest-first walk of a page with no filter, which stops after LIMIT rows.
        if (/^SCAN events$/.test(plan)) assert.equal(plans.length, 1, `an unfiltered page only: ${read.toString()}`);
      }
      const main = plans[plans.length - 1];
      assert.match(main, /^(SEARCH events USING (INDEX events_incident|INDEX events_call|INTEGER PRIMARY KEY \(rowid[<>])|SCAN events$)/, `${read.toString()}: ${main}`);
    }
    // The time bounds are looked up on the time index: one row each.
    for (const plan of plansOf((r) => r.events({ limit: 100, since: 1, until: 2 })).slice(0, 2)) {
      assert.match(plan, /^SEARCH events USING COVERING INDEX events_time \(received_at>\?\)$/);
    }
  });

  test('a phone\'s events and a small group\'s follow their chains by primary key; a call id its index', () => {
    const a = '001565000001';
    const b = '001565000002';
    for (const plans of [
      plansOf((r) => r.events({ mac: a, incident: 'dnd_on', before: 10, limit: 100 }, { [a]: 50 })),
      plansOf((r) => r.events({ macs: [a, b], since: 1, until: 2, limit: 100 }, { [a]: 50, [b]: 40 })),
    ]) {
      assert.ok(plans.length > 0);
      for (const plan of plans) assert.equal(plan, 'SEARCH events USING INTEGER PRIMARY KEY (rowid=?)');
    }
    const [byCall] = plansOf((r) => r.events({ mac: a, callId: '7', limit: 100 }));
    assert.match(byCall, /^SEARCH events USING INDEX events_call \(call_id=\?\)$/);
  });

  test('calls, rejected and deliveries pages use their indexes; the outbox backlog is read from the due index', () => {
    const cases: [(r: SqliteReads) => unknown, RegExp][] = [
      [(r) => r.calls({ limit: 100, mac: '001565000001' }), /^SEARCH calls USING INDEX calls_mac \(mac=\?\)$/],
      [(r) => r.calls({ limit: 100, outcome: 'missed' }), /^SEARCH calls USING INDEX calls_outcome \(outcome=\?\)$/],
      // An empty table: every period is narrow, read from the start-time index.
      [(r) => r.calls({ limit: 100, since: Date.now() - HOUR }), /^SEARCH calls USING INDEX calls_started \(started_at>\?\)/],
      [(r) => r.calls({ limit: 100, until: Date.now() - HOUR }), /^SEARCH calls USING INDEX calls_started \(started_at<\?\)/],
      [(r) => r.calls({ limit: 100, before: 7 }), /^SEARCH calls USING INTEGER PRIMARY KEY \(rowid<\?\)$/],
      [(r) => r.rejected({ limit: 100, before: 7 }), /^SEARCH rejected USING INTEGER PRIMARY KEY \(rowid<\?\)$/],
      [(r) => r.deliveries({ limit: 100, state: 'failed' }), /^SEARCH deliveries USING INDEX deliveries_due|^SCAN deliveries USING INDEX deliveries_due/],
      [(r) => r.deliveries({ limit: 100, state: 'pending', destination: 'hook' }), /^SEARCH deliveries USING INDEX deliveries_due \(destination=\?\)$/],
      [(r) => r.deliveries({ limit: 100, state: 'dead' }), /deliveries_dead/],
      [(r) => r.outboxDepth(), /^SCAN deliveries USING (COVERING )?INDEX deliveries_due$/],
    ];
    for (const [read, expected] of cases) {
      const plans = plansOf(read);
      assert.match(plans[plans.length - 1], expected, read.toString());
    }
  });
});
