import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand, lint, MAX_URL_LENGTH } from '../../src/core/templates.ts';

const codes = (r: ReturnType<typeof lint>) => [...r.errors, ...r.warnings].map((p) => p.code);

test('a generated-style template is clean', { timeout: 60_000 }, () => {
  const r = lint('http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&remote=$remote&display_remote=$display_remote', 'incoming_call');
  assert.equal(r.ok, true);
  assert.deepEqual(codes(r), []);
});

test('a missing scheme is an error with the fix', { timeout: 60_000 }, () => {
  const r = lint('10.0.0.5/help.xml?mac=$mac');
  assert.equal(r.ok, false);
  assert.equal(r.errors[0].code, 'missing_scheme');
  assert.equal(r.errors[0].fix, 'http://10.0.0.5/help.xml?mac=$mac');
  assert.match(r.errors[0].message, /http:\/\/ or https:\/\//);
});

test('only http and https are accepted', { timeout: 60_000 }, () => {
  assert.equal(lint('ftp://server/x').errors[0].code, 'bad_scheme');
  assert.equal(lint('HTTPS://server/x').ok, true);
  assert.equal(lint('http:///x').errors[0].code, 'missing_host');
  assert.equal(lint('').errors[0].code, 'empty');
});

test('more than 511 characters is an error pointing at the first character too many', { timeout: 60_000 }, () => {
  const base = 'http://s/x?';
  const r = lint(base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1));
  assert.equal(r.errors[0].code, 'too_long');
  assert.equal(r.errors[0].index, MAX_URL_LENGTH);
  assert.equal(lint(base + 'a'.repeat(MAX_URL_LENGTH - base.length)).ok, true);
});

test('unknown tokens are warnings that say where they are', { timeout: 60_000 }, () => {
  const t = 'http://s/x?mac=$mac&who=$caller';
  const r = lint(t);
  assert.equal(r.ok, true);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].code, 'unknown_token');
  assert.equal(r.warnings[0].index, t.indexOf('$caller'));
  assert.equal(r.warnings[0].length, '$caller'.length);
});

test('a token glued to text warns that the phone substitutes the known prefix', { timeout: 60_000 }, () => {
  const r = lint('http://s/x?m=$macaddr');
  assert.equal(r.warnings[0].code, 'token_prefix');
  assert.match(r.warnings[0].message, /\$mac followed by "addr"/);
});

test('variables the incident never fills are warnings', { timeout: 60_000 }, () => {
  const t = 'http://s/x?mac=$mac&remote=$remote';
  const r = lint(t, 'registered');
  assert.equal(r.ok, true);
  assert.deepEqual(codes(r), ['not_filled']);
  assert.equal(r.warnings[0].index, t.indexOf('$remote'));
  assert.deepEqual(codes(lint(t, 'incoming_call')), []);
  assert.equal(lint(t, 'no_such').errors[0].code, 'unknown_incident');
});

test('raw whitespace in a template is a warning', { timeout: 60_000 }, () => {
  assert.deepEqual(codes(lint('http://s/x?a=b c')), ['whitespace']);
});

test('phone mode substitutes as firmware: raw values, anywhere, unknown tokens literal', { timeout: 60_000 }, () => {
  const ctx = { mac: '001565aabbcc', display_remote: 'John Doe', ip: '10.0.0.9', remote: '' };
  assert.equal(
    expand('http://$ip/x/$mac?name=$display_remote&r=$remote&u=$unknown', ctx),
    'http://10.0.0.9/x/001565aabbcc?name=John Doe&r=&u=$unknown',
  );
});

test('a variable with no value stays as the literal placeholder', { timeout: 60_000 }, () => {
  assert.equal(expand('http://s/?c=$call_id', {}), 'http://s/?c=$call_id');
});

test('longest token first: $display_remote is not read as $display_ + remote', { timeout: 60_000 }, () => {
  assert.equal(expand('$display_remote|$remote', { display_remote: 'D', remote: 'R' }), 'D|R');
  assert.equal(expand('$call-id/$call_id', { call_id: '7' }), '7/7');
});

test('vendor spellings are substituted from the canonical value', { timeout: 60_000 }, () => {
  assert.equal(expand('x?ip=$phone_ip&m=$product', { ip: '1.2.3.4', model: 'T46S' }), 'x?ip=1.2.3.4&m=T46S');
});

test('values are not rescanned for tokens', { timeout: 60_000 }, () => {
  assert.equal(expand('a=$display_remote&m=$mac', { display_remote: '$mac', mac: 'M' }), 'a=$mac&m=M');
});

test('safe mode percent-encodes each value and nothing else', { timeout: 60_000 }, () => {
  assert.equal(
    expand('http://s/x?n=$display_remote&m=$mac', { display_remote: 'Jörg & Co', mac: 'ab' }, 'safe'),
    'http://s/x?n=J%C3%B6rg%20%26%20Co&m=ab',
  );
});
