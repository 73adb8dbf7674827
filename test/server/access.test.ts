import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Allowlist, parseCidr, parseRateLimit, RateLimiter } from '../../src/server/access.ts';
import { RejectionSampler } from '../../src/server/rejections.ts';
import { parseDuration, parseSince } from '../../src/server/duration.ts';
import { redactToken } from '../../src/server/ingest.ts';
import type { NewRejected } from '../../src/store/types.ts';

describe('allowlist', { timeout: 120_000 }, () => {
  const list = new Allowlist('10.0.0.0/8, 192.168.1.20, fd00::/8, 2001:db8::/126');
  const cases: [string, boolean][] = [
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.168.1.20', true],
    ['192.168.1.21', false],
    ['fd12:3456::1', true],
    ['fe80::1', false],
    ['2001:db8::3', true],
    ['2001:db8::4', false],
    ['not an address', false],
  ];
  for (const [address, allowed] of cases) {
    test(`${address} is ${allowed ? 'allowed' : 'refused'}`, () => assert.equal(list.allows(address), allowed));
  }
  test('0.0.0.0/0 allows every IPv4 address, not IPv6', () => {
    const all = new Allowlist('0.0.0.0/0');
    assert.equal(all.allows('203.0.113.9'), true);
    assert.equal(all.allows('2001:db8::1'), false);
  });
  test('a bad range is refused with a message that names it', () => {
    assert.throws(() => parseCidr('10.0.0.0/33'), /10\.0\.0\.0\/33/);
    assert.throws(() => parseCidr('lan'), /"lan"/);
  });
});

describe('rate limit', { timeout: 120_000 }, () => {
  test('parses rate and burst', () => {
    assert.deepEqual(parseRateLimit('50'), { perSecond: 50, burst: 100 });
    assert.deepEqual(parseRateLimit('5/s:20'), { perSecond: 5, burst: 20 });
    assert.throws(() => parseRateLimit('fast'), /rate-limit/);
  });

  test('a source gets its burst, then the sustained rate; sources are independent', () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 });
    const at0 = [1, 2, 3, 4].map(() => limiter.take('a', 0));
    assert.deepEqual(at0, [true, true, true, false]);
    assert.equal(limiter.take('b', 0), true);
    assert.equal(limiter.take('a', 499), false);
    assert.equal(limiter.take('a', 500), true); // one token back after half a second at 2/s
  });

  test('quiet sources are forgotten, so memory stays bounded', () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 10 });
    for (let i = 0; i < 1000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`, 0);
    limiter.take('x', 10_000);
    assert.equal(limiter.tracked, 1);
  });
});

describe('rejection sampling', { timeout: 120_000 }, () => {
  const row = (source: string, at: number, reason = 'rate'): NewRejected => ({
    receivedAt: at, sourceIp: source, method: 'GET', status: 429, reason, rawTarget: Buffer.from('/x'), count: 1,
  });

  test('stores the first refusals per source, summarises the rest, and the counts add up', () => {
    const s = new RejectionSampler({ windowMs: 1000, perSource: 3, total: 100, maxSources: 10, maxSummaries: 100 });
    const stored = Array.from({ length: 10 }, (_, i) => s.admit(row('a', i), 'rate_limited').store);
    assert.deepEqual(stored, [true, true, true, false, false, false, false, false, false, false]);
    const next = s.admit(row('a', 2000), 'rate_limited');
    assert.equal(next.store, true);
    assert.equal(next.summaries.length, 1);
    assert.equal(next.summaries[0].count, 7);
    assert.equal(next.summaries[0].sourceIp, 'a');
  });

  test('many distinct sources are capped by the global budget and the source limit', () => {
    const s = new RejectionSampler({ windowMs: 1000, perSource: 5, total: 50, maxSources: 20, maxSummaries: 100 });
    let stored = 0;
    for (let i = 0; i < 10_000; i++) if (s.admit(row(`src${i}`, 1), 'rate_limited').store) stored++;
    assert.equal(stored, 20);
    const summaries = s.drain(0, true);
    assert.equal(summaries.reduce((n, r) => n + r.count, 0), 10_000 - 20);
    assert.ok(summaries.length <= 1, 'untracked sources share one summary row per reason');
  });
});

describe('rejection sampling by kind of refusal', { timeout: 120_000 }, () => {
  const refusal = (source: string, at: number, reason: string): NewRejected => ({
    receivedAt: at, sourceIp: source, method: 'GET', status: 400, reason, rawTarget: Buffer.from(`/actionurl/${reason}`), count: 1,
  });

  test('reasons that differ only in what the client sent share one summary row', () => {
    const s = new RejectionSampler({ windowMs: 60_000, perSource: 20, total: 2000, maxSources: 10_000, maxSummaries: 1000 });
    let stored = 0;
    for (let i = 0; i < 20_000; i++) if (s.admit(refusal('10.0.0.9', 1, `unknown incident "nope${i}"`), 'unknown_incident').store) stored++;
    assert.equal(stored, 20);
    const rows = s.drain(0, true);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].count, 20_000 - 20);
    assert.equal(rows[0].sourceIp, '10.0.0.9');
    assert.match(rows[0].reason, /^unknown incident "nope19999" \(summary: 19980 refused requests/);
    assert.equal(rows[0].rawTarget.toString(), '/actionurl/unknown incident "nope19999"');
  });

  test('different kinds of refusal of one source get a summary row each', () => {
    const s = new RejectionSampler({ windowMs: 60_000, perSource: 1, total: 2000, maxSources: 100, maxSummaries: 100 });
    for (let i = 0; i < 5; i++) s.admit(refusal('a', 1, `unknown incident "x${i}"`), 'unknown_incident');
    for (let i = 0; i < 5; i++) s.admit(refusal('a', 1, `"m${i}" is not a MAC address`), 'invalid_mac');
    const rows = s.drain(0, true);
    assert.deepEqual(rows.map((r) => r.count).sort(), [4, 5]);
  });

  test('summary rows per window are capped; beyond, sources share one per kind under *', () => {
    const s = new RejectionSampler({ windowMs: 60_000, perSource: 1, total: 100_000, maxSources: 100_000, maxSummaries: 10 });
    for (let i = 0; i < 1000; i++) for (let k = 0; k < 3; k++) s.admit(refusal(`src${i}`, 1, `r${k}`), 'invalid_mac');
    const rows = s.drain(0, true);
    assert.equal(rows.length, 11);
    assert.equal(rows.reduce((n, r) => n + r.count, 0), 2000);
    assert.equal(rows.filter((r) => r.sourceIp === '*').length, 1);
  });
});

describe('time spans', { timeout: 120_000 }, () => {
  test('durations and since values', () => {
    assert.equal(parseDuration('90m'), 5_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseSince('24h', 100_000_000), 100_000_000 - 86_400_000);
    assert.equal(parseSince('2025-01-31T08:00:00Z', 0), Date.parse('2025-01-31T08:00:00Z'));
    assert.equal(parseSince('May', 0), undefined);
  });
});

describe('tokens', { timeout: 120_000 }, () => {
  test('token values are blanked wherever a token parameter appears', () => {
    assert.equal(redactToken(Buffer.from('/actionurl/x?mac=1&token=abc&b=2')).toString(), '/actionurl/x?mac=1&token=***&b=2');
    assert.equal(redactToken(Buffer.from('/actionurl/x?token=abc;mac=1')).toString(), '/actionurl/x?token=***;mac=1');
    assert.equal(redactToken(Buffer.from('/actionurl/x/mac=1&TOKEN=abc')).toString(), '/actionurl/x/mac=1&TOKEN=***');
    // A name ending in "token" is a token too; other names keep their value.
    assert.equal(redactToken(Buffer.from('/actionurl/x?mytoken=abc')).toString(), '/actionurl/x?mytoken=***');
    assert.equal(redactToken(Buffer.from('/actionurl/x?mykey=abc')).toString(), '/actionurl/x?mykey=abc');
  });
});
