import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeRequestTarget, isUsable, refusalReason, resolveIncident } from '../../src/core/decode.ts';
import { normalizeMac, formatMac } from '../../src/core/mac.ts';
import { INCIDENTS } from '../../src/core/catalog.ts';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

interface Row {
  what: string;
  target: string | Buffer;
  incident: string | null;
  mac?: string | null;
  vars?: Record<string, string>;
  extra?: Record<string, string>;
  form?: string;
  warnings?: string[];
  errors?: string[];
}

// Request targets as phones really send them (docs/vendors.md, "How phones substitute and send": values not
// encoded, `;` separators, placeholders…).
const REAL_WORLD: Row[] = [
  {
    what: 'generated path form, Yealink incoming call with a raw space in the display name',
    target: '/actionurl/incoming_call?mac=00:15:65:AA:BB:CC&remote=sip:200@pbx.local&display_remote=John Doe&call_id=3',
    incident: 'incoming_call',
    mac: '001565aabbcc',
    vars: { mac: '001565aabbcc', remote: 'sip:200@pbx.local', display_remote: 'John Doe', call_id: '3' },
    form: 'path',
  },
  {
    what: 'raw UTF-8 display name',
    target: Buffer.from('/actionurl/incoming_call?mac=001565aabbcc&display_remote=Jörg Müller', 'utf8'),
    incident: 'incoming_call',
    vars: { mac: '001565aabbcc', display_remote: 'Jörg Müller' },
  },
  {
    what: 'Latin-1 byte that is not valid UTF-8 is kept, read as Latin-1',
    target: bytes('/actionurl/incoming_call?mac=001565aabbcc&display_remote=J', [0xf6], 'rg'),
    incident: 'incoming_call',
    vars: { mac: '001565aabbcc', display_remote: 'Jörg' },
    warnings: ['latin1'],
  },
  {
    what: 'query form with ; separators (the seed\'s help.xml?model=$model;mac=$mac style)',
    target: '/actionurl?event=registered;mac=00-15-65-aa-bb-cc;model=T46S;active_user=100',
    incident: 'registered',
    vars: { mac: '001565aabbcc', model: 'T46S', active_user: '100' },
    form: 'query',
  },
  {
    what: 'literal placeholders become empty values',
    target: '/actionurl/off_hook?mac=001565aabbcc&remote=$remote&call_id=$call_id',
    incident: 'off_hook',
    vars: { mac: '001565aabbcc', remote: '', call_id: '' },
    warnings: ['placeholder', 'placeholder'],
  },
  {
    what: 'Grandstream path form with vendor spellings',
    target: '/actionurl/incoming_call/mac=001565AABBCC&phone_ip=10.0.0.7&call-id=42&product=GXP2170&calldirection=in',
    incident: 'incoming_call',
    vars: { mac: '001565aabbcc', ip: '10.0.0.7', call_id: '42', model: 'GXP2170', call_direction: 'in' },
    form: 'grandstream',
  },
  {
    what: 'mixed-case MAC with dots (Cisco style) and upper-case parameter name',
    target: '/actionurl/dnd_on?MAC=0015.65Aa.BbCc',
    incident: 'dnd_on',
    mac: '001565aabbcc',
  },
  {
    what: '+ is kept as +, percent-escapes decoded, invalid escapes kept as typed',
    target: '/actionurl/outgoing_call?mac=001565aabbcc&remote=sip:+4930123@pbx&display_remote=A%20B&note=100%zz',
    incident: 'outgoing_call',
    vars: { mac: '001565aabbcc', remote: 'sip:+4930123@pbx', display_remote: 'A B' },
    extra: { note: '100%zz' },
    warnings: ['bad_escape'],
  },
  {
    what: 'a raw & inside a display name stays in the value',
    target: '/actionurl/incoming_call?mac=001565aabbcc&display_remote=Tom & Jerry&call_id=1',
    incident: 'incoming_call',
    vars: { mac: '001565aabbcc', display_remote: 'Tom & Jerry', call_id: '1' },
    warnings: ['joined'],
  },
  {
    what: 'unknown parameters are kept as extras; the token is taken apart',
    target: '/actionurl/registered?mac=001565aabbcc&token=s3cret&site=berlin',
    incident: 'registered',
    extra: { site: 'berlin' },
  },
  {
    what: 'seed names are accepted for the incident',
    target: '/actionurl/Open%20DND?mac=001565aabbcc',
    incident: 'dnd_on',
  },
  {
    what: 'absolute-form target (through a proxy)',
    target: 'http://10.0.0.5:8080/actionurl/hold?mac=001565aabbcc',
    incident: 'hold',
  },
  {
    what: 'a ? inside a value does not split again',
    target: '/actionurl/incoming_call?mac=001565aabbcc&display_remote=Who?',
    incident: 'incoming_call',
    vars: { mac: '001565aabbcc', display_remote: 'Who?' },
  },
  {
    what: 'unknown incident',
    target: '/actionurl/phone_exploded?mac=001565aabbcc',
    incident: null,
    errors: ['unknown_incident'],
  },
  {
    what: 'no incident at all',
    target: '/actionurl?mac=001565aabbcc',
    incident: null,
    errors: ['missing_incident'],
  },
  {
    what: 'no MAC',
    target: '/actionurl/registered?ip=10.0.0.1',
    incident: 'registered',
    mac: null,
    errors: ['missing_mac'],
  },
  {
    what: 'MAC left as the placeholder',
    target: '/actionurl/registered?mac=$mac',
    incident: 'registered',
    mac: null,
    errors: ['missing_mac'],
    warnings: ['placeholder'],
  },
  {
    what: 'MAC that is not a MAC',
    target: '/actionurl/registered?mac=00:15:65:AA:BB',
    incident: 'registered',
    mac: null,
    errors: ['invalid_mac'],
  },
  {
    what: 'another path',
    target: '/favicon.ico',
    incident: null,
    errors: ['not_ingest_path'],
  },
  {
    what: 'a path that only starts like the base',
    target: '/actionurlx/registered?mac=001565aabbcc',
    incident: null,
    errors: ['not_ingest_path'],
  },
];

for (const row of REAL_WORLD) {
  test(`decode: ${row.what}`, { timeout: 60_000 }, () => {
    const d = decodeRequestTarget(row.target);
    assert.equal(d.incident, row.incident);
    if (row.mac !== undefined) assert.equal(d.mac, row.mac);
    if (row.vars) assert.deepEqual(d.vars, row.vars);
    if (row.extra) assert.deepEqual(d.extra, row.extra);
    if (row.form) assert.equal(d.form, row.form);
    const errors = d.problems.filter((p) => p.severity === 'error').map((p) => p.code);
    const warnings = d.problems.filter((p) => p.severity === 'warning').map((p) => p.code);
    assert.deepEqual(errors, row.errors ?? []);
    assert.deepEqual(warnings, row.warnings ?? []);
    assert.equal(isUsable(d), errors.length === 0);
    if (errors.length) assert.ok(refusalReason(d)?.length);
  });
}

test('decode: the token parameter is returned and not stored as an extra', { timeout: 60_000 }, () => {
  const d = decodeRequestTarget('/actionurl/registered?mac=001565aabbcc&token=s3cret');
  assert.equal(d.token, 's3cret');
  assert.deepEqual(d.extra, {});
});

test('decode: refusal reasons are one line and tell the fix', { timeout: 60_000 }, () => {
  assert.match(refusalReason(decodeRequestTarget('/actionurl/registered'))!, /add mac=\$mac/);
  assert.match(refusalReason(decodeRequestTarget('/actionurl?mac=001565aabbcc'))!, /event=<incident>/);
  for (const row of REAL_WORLD) {
    const reason = refusalReason(decodeRequestTarget(row.target));
    if (reason) assert.doesNotMatch(reason, /[\r\n]/);
  }
});

test('decode: a duplicated variable keeps the first value and says so, a placeholder yields to a value', { timeout: 60_000 }, () => {
  const d = decodeRequestTarget('/actionurl/hold?mac=001565aabbcc&call_id=1&call_id=2');
  assert.equal(d.vars.call_id, '1');
  assert.deepEqual(d.problems.map((p) => p.code), ['duplicate']);
  const e = decodeRequestTarget('/actionurl/hold?mac=001565aabbcc&call-id=$call-id&call_id=9');
  assert.equal(e.vars.call_id, '9');
});

test('decode: every incident resolves by slug in both forms', { timeout: 60_000 }, () => {
  for (const i of INCIDENTS) {
    assert.equal(decodeRequestTarget(`/actionurl/${i.slug}?mac=001565aabbcc`).incident, i.slug);
    assert.equal(decodeRequestTarget(`/actionurl?event=${i.slug}&mac=001565aabbcc`).incident, i.slug);
    assert.equal(resolveIncident(i.name), i.slug);
  }
});

test('decode: a custom base path', { timeout: 60_000 }, () => {
  assert.equal(decodeRequestTarget('/hooks/phone/registered?mac=001565aabbcc', { base: '/hooks/phone' }).incident, 'registered');
});

test('decode: random bytes never throw and always give a well-formed answer', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (arr) => {
      const d = decodeRequestTarget(Buffer.from(arr));
      assert.ok(Array.isArray(d.problems));
      assert.equal(isUsable(d), d.incident !== null && d.mac !== null);
    }),
    { numRuns: 3000 },
  );
});

test('decode: random bytes after a valid prefix never throw and never lose the incident', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (arr) => {
      const target = Buffer.concat([Buffer.from('/actionurl/incoming_call?mac=001565aabbcc&display_remote='), Buffer.from(arr)]);
      const d = decodeRequestTarget(target);
      assert.equal(d.incident, 'incoming_call');
      assert.equal(d.mac, '001565aabbcc');
      for (const v of Object.values(d.vars)) assert.equal(typeof v, 'string');
    }),
    { numRuns: 2000 },
  );
});

test('decode: what a phone sends in safe mode decodes back to the values', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (name, remote) => {
      const t = `/actionurl/incoming_call?mac=001565aabbcc&display_remote=${encodeURIComponent(name)}&remote=${encodeURIComponent(remote)}`;
      const d = decodeRequestTarget(t);
      const expect = (v: string) => (/^\$[A-Za-z_][A-Za-z0-9_-]*$/.test(v) ? '' : v);
      // Lone surrogates cannot be encoded by encodeURIComponent's peers either; fast-check's string() is well-formed.
      assert.equal(d.vars.display_remote, expect(name));
      assert.equal(d.vars.remote, expect(remote));
    }),
    { numRuns: 1000 },
  );
});

test('MAC spellings normalise to 12 lowercase hex digits', { timeout: 60_000 }, () => {
  for (const m of ['00:15:65:AA:BB:CC', '00-15-65-aa-bb-cc', '001565AABBCC', '0015.65aa.bbcc', ' 00:15:65:aa:bb:cc ']) {
    assert.equal(normalizeMac(m), '001565aabbcc', m);
  }
  for (const m of ['', '00:15:65:AA:BB', '00:15:65:AA:BB:CC:DD', 'zz1565aabbcc', '$mac']) assert.equal(normalizeMac(m), undefined, m);
  assert.equal(formatMac('001565aabbcc'), '00:15:65:aa:bb:cc');
});

test('decode: a ; inside a SIP URI value starts a URI parameter, not a new pair', { timeout: 60_000 }, () => {
  const d = decodeRequestTarget('/actionurl/incoming_call?mac=001565aabbcc&remote=sip:100@pbx;user=phone;transport=tcp&call_id=8');
  assert.equal(d.vars.remote, 'sip:100@pbx;user=phone;transport=tcp');
  assert.equal(d.vars.call_id, '8');
  assert.deepEqual(d.extra, {});
  // `;` still separates pairs when a known name follows, as in the seed's help.xml?model=$model;mac=$mac.
  const e = decodeRequestTarget('/actionurl?event=incoming_call;remote=sip:100@pbx;mac=001565aabbcc;call_id=3;site=x');
  assert.equal(e.vars.remote, 'sip:100@pbx');
  assert.equal(e.mac, '001565aabbcc');
  assert.equal(e.vars.call_id, '3');
  assert.deepEqual(e.extra, { site: 'x' });
});

test('decode: a parameter named __proto__ is kept as an ordinary extra', { timeout: 60_000 }, () => {
  const d = decodeRequestTarget('/actionurl/registered?mac=001565aabbcc&__proto__=x&constructor=y');
  assert.equal(Object.getPrototypeOf(d.extra), Object.prototype);
  assert.deepEqual(Object.entries(d.extra), [['__proto__', 'x'], ['constructor', 'y']]);
  assert.equal(JSON.parse(JSON.stringify(d.extra)).constructor, 'y');
});
