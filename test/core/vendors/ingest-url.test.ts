import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INCIDENTS, seedVariablesFilledBy } from '../../../src/core/catalog.ts';
import { ingestConfig, ingestUrlTemplate, normalizeServerUrl } from '../../../src/core/ingest-url.ts';
import { expand, lint } from '../../../src/core/templates.ts';
import { decodeRequestTarget } from '../../../src/core/decode.ts';

test('ingest template: /actionurl/<slug> with every seed variable the incident fills and the token, values a caller controls last', { timeout: 60_000 }, () => {
  assert.equal(
    ingestUrlTemplate('http://10.0.0.5:8080/', 'setup_completed', { token: 's3cret' }),
    'http://10.0.0.5:8080/actionurl/setup_completed?mac=$mac&ip=$ip&model=$model&firmware=$firmware&token=s3cret',
  );
  const incoming = new URL(ingestUrlTemplate('https://pbx.example/', 'incoming_call'));
  assert.equal(incoming.pathname, '/actionurl/incoming_call');
  const names = seedVariablesFilledBy('incoming_call').map((v) => v.name);
  assert.deepEqual([...incoming.searchParams.keys()].sort(), [...names].sort());
  assert.deepEqual([...incoming.searchParams.keys()].slice(-2), ['remote', 'display_remote']);
  const withToken = ingestUrlTemplate('http://h', 'incoming_call', { token: 't' });
  assert.ok(withToken.endsWith('&call_id=$call_id&token=t&remote=$remote&display_remote=$display_remote'));
  assert.equal(incoming.searchParams.get('display_remote'), '$display_remote');
});

test('every generated template passes the template linter for its incident and fits a phone field', { timeout: 60_000 }, () => {
  for (const incident of INCIDENTS) {
    const url = ingestUrlTemplate('https://receiver.example.com:8443/phones', incident.slug, { token: 'x'.repeat(40) });
    const result = lint(url, incident.slug);
    assert.deepEqual(result.errors, [], incident.slug);
    assert.deepEqual(result.warnings, [], incident.slug);
  }
});

test('the token is percent-encoded, so a $ or & in it can neither be substituted nor split the query', { timeout: 60_000 }, () => {
  const url = ingestUrlTemplate('http://h', 'registered', { token: 'a$mac&b=c d' });
  assert.ok(url.endsWith('&token=a%24mac%26b%3Dc%20d'));
  assert.equal(new URL(url).searchParams.get('token'), 'a$mac&b=c d');
});

test('vendor spellings: Snom and Grandstream URLs use their own variable names under the canonical keys', { timeout: 60_000 }, () => {
  const gs = ingestUrlTemplate('http://h', 'incoming_call', { vendor: 'grandstream' });
  assert.match(gs, /[?&]ip=\$phone_ip&model=\$product&firmware=\$program_version&/);
  assert.match(gs, /&call_id=\$call-id&remote=\$remote&display_remote=\$display_remote$/);
  assert.match(ingestUrlTemplate('http://h', 'incoming_call', { vendor: 'snom' }), /ip=\$phone_ip&model=\$model&/);
  assert.match(ingestUrlTemplate('http://h', 'incoming_call', { vendor: 'yealink' }), /ip=\$ip&.*call_id=\$call_id&remote=/);
});

test('server URLs: http(s) only, trailing slashes dropped, a path prefix kept, no query', { timeout: 60_000 }, () => {
  assert.equal(normalizeServerUrl('http://10.0.0.5:8080///'), 'http://10.0.0.5:8080');
  assert.equal(normalizeServerUrl('  HTTPS://Receiver.Example/phones/ '), 'https://receiver.example/phones');
  assert.throws(() => normalizeServerUrl('10.0.0.5:8080'), /must start with http:\/\/ or https:\/\/|is not a URL/);
  assert.throws(() => normalizeServerUrl('ftp://h'), /must start with http:\/\/ or https:\/\//);
  assert.throws(() => normalizeServerUrl('http://h/?a=1'), /must not have a query/);
  assert.throws(() => normalizeServerUrl('nonsense'), /is not a URL/);
  assert.throws(() => normalizeServerUrl('http://h/$mac'), /must not contain "\$"/);
  assert.throws(() => ingestUrlTemplate('http://h', 'no_such_incident'), /unknown incident/);
});

test('ingestConfig: switch on, all 34 incidents pointing at the receiver', { timeout: 60_000 }, () => {
  const config = ingestConfig('http://h:1/', { token: 't' });
  assert.equal(config.enabled, true);
  assert.deepEqual(Object.keys(config.urls), INCIDENTS.map((i) => i.slug));
  assert.equal(config.urls.dnd_on, ingestUrlTemplate('http://h:1', 'dnd_on', { token: 't' }));
});

test('a caller cannot override the phone\'s own values through a display name with & in it', { timeout: 60_000 }, () => {
  const template = ingestUrlTemplate('http://h', 'incoming_call', { token: 's3cret' });
  const sent = expand(template, {
    mac: '001565aabbcc', call_id: '2', remote: 'sip:bob@pbx', display_remote: 'Bob&call_id=999&token=x&mac=001565000000',
  });
  const decoded = decodeRequestTarget(sent.slice('http://h'.length));
  assert.equal(decoded.vars.call_id, '2');
  assert.equal(decoded.mac, '001565aabbcc');
  assert.equal(decoded.token, 's3cret');
});
