import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Auth, SESSION_IDLE_MS } from '../../src/phone/web/auth.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('phone web login', { timeout: 120_000 }, () => {
  it('counts wrong logins per address; others and later attempts are not affected', () => {
    const c = clock();
    const auth = new Auth('admin', 'admin', { now: c.now });
    for (let i = 0; i < 10; i++) assert.equal(auth.attempt('10.0.0.66', 'admin', `guess${i}`), 'wrong');
    assert.equal(auth.attempt('10.0.0.66', 'admin', 'admin'), 'blocked');
    assert.ok(auth.retryAfter('10.0.0.66') > 0);
    assert.equal(auth.attempt('10.0.0.67', 'admin', 'admin'), 'ok');
    c.advance(60_001);
    assert.equal(auth.retryAfter('10.0.0.66'), 0);
    assert.equal(auth.attempt('10.0.0.66', 'admin', 'admin'), 'ok');
  });

  it('basic credentials go through the same count', () => {
    const auth = new Auth('admin', 'admin');
    const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;
    assert.equal(auth.basic(undefined, 'a'), 'none');
    assert.equal(auth.basic(basic('admin:admin'), 'a'), 'ok');
    for (let i = 0; i < 10; i++) assert.equal(auth.basic(basic('admin:x'), 'a'), 'wrong');
    assert.equal(auth.basic(basic('admin:admin'), 'a'), 'blocked');
  });

  it('sweeps sessions idle for longer than the limit when new ones are made', () => {
    const c = clock();
    const auth = new Auth('admin', 'admin', { now: c.now });
    const old = [auth.create(), auth.create(), auth.create()];
    c.advance(SESSION_IDLE_MS / 2);
    const kept = auth.create();
    assert.ok(auth.get(old[0].id), 'used sessions stay');
    c.advance(SESSION_IDLE_MS / 2 + 1);
    auth.create();
    // old[1] and old[2] were never used again: gone without anyone asking for them.
    assert.equal(auth.sessionCount, 3);
    assert.equal(auth.get(old[1].id), undefined);
    assert.ok(auth.get(kept.id));
    assert.ok(auth.get(old[0].id));
  });

  it('keeps at most maxSessions, dropping the least recently used', () => {
    const auth = new Auth('admin', 'admin', { maxSessions: 5 });
    const first = auth.create();
    const made = Array.from({ length: 4 }, () => auth.create());
    assert.ok(auth.get(first.id), 'using a session makes it recent');
    const next = auth.create();
    assert.equal(auth.sessionCount, 5);
    assert.equal(auth.get(made[0].id), undefined, 'the least recently used one went');
    assert.ok(auth.get(first.id));
    assert.ok(auth.get(next.id));
    for (let i = 0; i < 100; i++) auth.create();
    assert.equal(auth.sessionCount, 5);
  });

  it('holds a bounded number of sessions by default, however many logins there are', () => {
    const auth = new Auth();
    for (let i = 0; i < 5000; i++) auth.create();
    assert.ok(auth.sessionCount <= 1000, `${auth.sessionCount} sessions`);
  });
});
