import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ingestConfig, ingestUrlTemplate } from '../../src/core/ingest-url.ts';
import { createPhone } from '../../src/phone/phone.ts';
import { parseScenario, runScenario, virtualClock } from '../../src/phone/scenario.ts';
import { startCaptureServer } from './capture-server.ts';

const HOSTILE = 'Jörg Müller & Co;x=<b>';

const steps = (json: unknown) => {
  const s = parseScenario(JSON.stringify(json));
  if ('error' in s) throw new Error(s.error);
  return s;
};

const CALL = steps([
  { do: 'boot' }, { do: 'register' },
  { do: 'incoming', from: 'sip:3001@10.0.0.9', name: HOSTILE }, { do: 'answer' }, { do: 'hangup' },
]);

test('a scenario against a receiver: requests in firing order, variables filled, raw bytes on the wire', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const phone = createPhone({ mac: '00:15:65:AA:BB:CC', actionUrl: ingestConfig(server.base, { token: 's3cret' }) });
  const out = await runScenario(phone, CALL);
  assert.equal(out.ok, true);
  await phone.close();
  const incidents = ['setup_completed', 'ip_change', 'registered', 'incoming_call', 'answer_new_incoming_call', 'idle_to_busy',
    'call_established', 'call_terminated', 'busy_to_idle'];
  assert.deepEqual(out.deliveries.map((d) => d.incident), incidents);
  assert.deepEqual(server.targets(), out.deliveries.map((d) => d.url.slice(server.base.length)), 'what was reported is what arrived');
  assert.deepEqual(server.targets().map((t) => t.split('?')[0]), incidents.map((i) => `/actionurl/${i}`));
  assert.ok(out.deliveries.every((d) => d.status === 200));

  const incoming = server.requests[3];
  // Firmware does not encode: the display name's UTF-8 bytes, its spaces, `&` and `;` go out as they are.
  // Values a caller controls come last in generated URLs.
  assert.ok(incoming.target.toString('utf8').endsWith(`&display_remote=${HOSTILE}`));
  assert.ok(incoming.line.includes(Buffer.from('remote=sip:3001@10.0.0.9&')));
  assert.ok(incoming.line.includes(Buffer.from('mac=001565aabbcc&')));
  assert.ok(incoming.line.includes(Buffer.from('token=s3cret')));
  assert.equal(incoming.headers.host, `127.0.0.1:${server.port}`);
  const callId = /call_id=(\d+)/.exec(incoming.target.toString())![1];
  assert.ok(server.targets().slice(3, 8).every((t) => t.includes(`call_id=${callId}&`)));
  // Account incidents fill no call variables: the placeholder is left as is.
  assert.equal(server.targets()[2].includes('remote'), false);
});

test('safe mode percent-encodes each value, and nothing else', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const phone = createPhone({ actionUrl: ingestConfig(server.base), mode: 'safe' });
  const out = await runScenario(phone, CALL);
  await phone.close();
  assert.equal(out.ok, true);
  const incoming = server.targets()[3];
  assert.ok(incoming.endsWith(`&display_remote=${encodeURIComponent(HOSTILE)}`));
  assert.ok(incoming.includes('remote=sip%3A3001%4010.0.0.9&'));
  assert.ok(server.requests.every((r) => /^[\x21-\x7e]+$/.test(r.target.toString('latin1'))), 'only printable ASCII on the wire');
});

test('only incidents with a URL are sent, and nothing when the Active switch is off', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const urls = { registered: ingestUrlTemplate(server.base, 'registered'), call_established: `${server.base}/est?who=$display_remote` };
  const on = createPhone({ actionUrl: { enabled: true, urls } });
  const r = await runScenario(on, CALL);
  await on.close();
  assert.deepEqual(r.deliveries.map((d) => d.incident), ['registered', 'call_established']);
  const off = createPhone({ actionUrl: { enabled: false, urls } });
  const r2 = await runScenario(off, CALL);
  await off.close();
  assert.deepEqual(r2.deliveries, []);
  assert.equal(server.requests.length, 2);
  assert.ok(off.firedLog().every((f) => f.skipped === 'disabled'));
  assert.equal(on.firedLog().find((f) => f.slug === 'incoming_call')?.skipped, 'no_url');
});

test('an impossible step stops the run with its number and the reason; earlier requests are still sent', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const phone = createPhone({ actionUrl: ingestConfig(server.base) });
  const out = await runScenario(phone, steps([{ do: 'boot' }, { do: 'register' }, { do: 'answer' }, { do: 'hangup' }]));
  await phone.close();
  assert.deepEqual(out.ok ? null : [out.step, out.action, out.error], [3, 'answer', 'no ringing call to answer']);
  assert.equal(server.requests.length, 3);
});

test('wait lets time pass: an unanswered call goes to no-answer forward', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const clock = virtualClock();
  const phone = createPhone({ actionUrl: ingestConfig(server.base), clock });
  const out = await runScenario(phone, steps([
    { do: 'boot' }, { do: 'register' }, { do: 'forward', kind: 'no_answer', on: true, target: '5000' },
    { do: 'incoming', from: '3001' }, { do: 'wait', ms: 60_000 },
  ]), { sleep: clock.sleep });
  await phone.close();
  assert.deepEqual(out.deliveries.map((d) => d.incident).slice(3), ['no_answer_fwd_on', 'incoming_call', 'forward_incoming_call']);
});

test('scenario files: JSON array of steps, errors name the step', { timeout: 60_000 }, () => {
  assert.match((parseScenario('{') as { error: string }).error, /not JSON/);
  assert.match((parseScenario('{"do":"boot"}') as { error: string }).error, /array/);
  assert.deepEqual(parseScenario('[{"do":"boot"},{"do":"dial"}]'), { error: 'step 2: dial: "number" is required' });
});

test('settings with a URL the linter refuses are not taken', { timeout: 60_000 }, () => {
  assert.throws(() => createPhone({ actionUrl: { enabled: true, urls: { registered: 'ftp://x/y' } } }), /refused/);
  const phone = createPhone();
  const check = phone.setConfig({ enabled: true, urls: { registered: 'http:///nohost' } });
  assert.equal(check.ok, false);
  assert.deepEqual(phone.config, { enabled: false, urls: {} });
});
