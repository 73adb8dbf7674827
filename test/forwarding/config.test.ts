/** Destination files, flags, secrets and the retry schedule: the pure parts of forwarding. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSelector, parseForwardFile, selects, webhooksFromFlags } from '../../src/forwarding/destinations.ts';
import { parseSecret } from '../../src/forwarding/signing.ts';
import { judgeResponse, nextRetryDelay, parseRetryAfter, STANDARD_SCHEDULE_MS } from '../../src/forwarding/schedule.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('forward file', { timeout: 10_000 }, () => {
  test('a good file gives destinations with their filters', () => {
    const [d] = parseForwardFile(
      JSON.stringify({ destinations: [{ name: 'crm', url: 'https://crm.example/h', secret: SECRET, events: ['incoming_call', 'call.ended'], phones: ['00:15:65:AA:BB:CC', '0016*'] }] }),
      'f.json',
    );
    assert.equal(d.name, 'crm');
    assert.equal(d.secret?.key.length, 24);
    assert.ok(selects(d.select, 'phone.incoming_call', '001565aabbcc'));
    assert.ok(selects(d.select, 'call.ended', '001600000001'));
    assert.ok(!selects(d.select, 'phone.dnd_on', '001565aabbcc'), 'not an incident it asked for');
    assert.ok(!selects(d.select, 'phone.incoming_call', '001765aabbcc'), 'not a phone it asked for');
  });

  const refused: [string, string, RegExp][] = [
    ['broken JSON', '{\n  "destinations": [\n    { "url": "http://x/" },\n  ]\n}', /^f\.json: line 4: /],
    ['an unknown incident', '{"destinations": [\n {"url": "http://x/",\n  "events": ["incomming_call"]}]}', /^f\.json: line 3: events: "incomming_call" is not an incident/],
    ['a missing url', '[\n {"name": "a"}\n]', /^f\.json: line 2: destination "a" needs a "url"/],
    ['a bad secret', '[{"url": "http://x/",\n"secret": "hunter2"}]', /^f\.json: line 2: a webhook secret looks like whsec_/],
    ['an ftp URL', '[{"url": "ftp://x/"}]', /^f\.json: line 1: .*http:\/\/ or https:\/\//],
    ['a typo in a setting', '[{"url": "http://x/",\n\n "timeout": 5}]', /^f\.json: line 3: unknown setting "timeout"/],
    ['a bad MAC', '[{"url": "http://x/",\n "phones": ["00:15:65"]}]', /^f\.json: line 2: phones: "00:15:65" is not a MAC/],
    ['the same name twice', '[{"name": "a", "url": "http://x/"},\n{"name": "a", "url": "http://y/"}]', /^f\.json: line 2: name "a" is used twice/],
    ['a timeout out of range', '[{"url": "http://x/", "timeout_seconds": 600}]', /timeout_seconds: a number from 1 to 60/],
    ['not a list', '{"hooks": []}', /expected \{"destinations": \[ … \]\}/],
    ['a duplicated key', '[{"url": "http://x/",\n "url": "http://y/"}]', /line 2: "url" is given twice/],
  ];
  for (const [what, text, error] of refused) {
    test(`refuses ${what} with the line and the reason`, () => {
      assert.throws(() => parseForwardFile(text, 'f.json'), (err: Error) => {
        assert.match(err.message, error);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      });
    });
  }
});

describe('flags', { timeout: 10_000 }, () => {
  test('secrets pair with webhooks by position, or one serves all', () => {
    const two = webhooksFromFlags(['http://a/', 'http://b/'], [SECRET]);
    assert.equal(two[1].secret?.text, SECRET);
    assert.throws(() => webhooksFromFlags(['http://a/', 'http://b/', 'http://c/'], [SECRET, SECRET]), /one per --webhook/);
    assert.throws(() => webhooksFromFlags([], [SECRET]), /without --webhook/);
    assert.throws(() => webhooksFromFlags(['localhost:8080'], []), /--webhook: "localhost:8080": a webhook URL starts with http/);
  });

  test('a secret holds 24 to 64 bytes of base64', () => {
    assert.throws(() => parseSecret('whsec_' + Buffer.alloc(8).toString('base64')), /24 to 64 bytes/);
    assert.throws(() => parseSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), /whsec_/);
    assert.equal(parseSecret(SECRET).key.toString('base64'), SECRET.slice(6));
  });

  test('selectors: kinds, conclusion names and patterns', () => {
    const s = makeSelector(['conclusions'], ['0015*']);
    assert.ok(selects(s, 'phone.offline', '001500000000'));
    assert.ok(!selects(s, 'phone.registered', '001500000000'), 'phone.registered is an incident, not the conclusion');
    assert.throws(() => makeSelector(['call.started'], undefined), /not an incident/);
  });
});

describe('retry schedule', { timeout: 10_000 }, () => {
  test('Standard Webhooks: 10 attempts over about 3 days, then dead', () => {
    assert.equal(STANDARD_SCHEDULE_MS.length, 10);
    const total = STANDARD_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.ok(total > 3 * 24 * 3_600_000 && total < 4 * 24 * 3_600_000);
    assert.equal(nextRetryDelay(10, STANDARD_SCHEDULE_MS, 0.5), undefined);
  });

  test('jitter stays within 20 % of the step', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const d = nextRetryDelay(2, STANDARD_SCHEDULE_MS, r)!;
      assert.ok(d >= 240_000 && d <= 360_000, `${d}`);
    }
    assert.notEqual(nextRetryDelay(3, STANDARD_SCHEDULE_MS, 0), nextRetryDelay(3, STANDARD_SCHEDULE_MS, 0.9));
  });

  test('answers: 2xx delivered, 3xx failure, 410 gone, 429/503 with Retry-After (seconds or a date)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(judgeResponse(204, undefined, now).kind, 'delivered');
    assert.equal(judgeResponse(301, undefined, now).kind, 'retry');
    assert.equal(judgeResponse(410, undefined, now).kind, 'gone');
    const v = judgeResponse(503, 'Thu, 01 Jan 2026 00:02:00 GMT', now);
    assert.equal(v.kind === 'retry' ? v.retryAfterMs : -1, 120_000);
    assert.equal(parseRetryAfter('30', now), 30_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('99999999', now), 24 * 3_600_000, 'capped at a day');
    const plain500 = judgeResponse(500, '5', now);
    assert.equal(plain500.kind === 'retry' ? plain500.retryAfterMs : -1, undefined, 'Retry-After only counts on 429/502/503/504');
  });
});
