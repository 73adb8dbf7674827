import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getVendorCodec } from '../../../src/core/vendors/index.ts';

const yealink = getVendorCodec('yealink');
const akuvox = getVendorCodec('akuvox');

test('Yealink file starts with the version line the firmware requires, one key = value per incident', { timeout: 60_000 }, () => {
  const text = yealink.write({ enabled: true, urls: { registered: 'http://h/r?mac=$mac', dnd_on: 'http://h/d' } });
  const lines = text.split('\n');
  assert.equal(lines[0], '#!version:1.0.0.1');
  assert.ok(lines.includes('action_url.registered = http://h/r?mac=$mac'));
  assert.ok(lines.includes('action_url.dnd_on = http://h/d'));
  assert.ok(text.endsWith('\n'));
});

test('a hand-edited Yealink file: comments, blank lines, other settings, CRLF and LF mixed, BOM', { timeout: 60_000 }, () => {
  const text = '\uFEFF#!version:1.0.0.1\r\n'
    + '# provisioning for reception\r\n'
    + '\r\n'
    + 'account.1.enable = 1\n'
    + '  ACTION_URL.Registered   =   http://h/r?mac=$mac  \r\n'
    + '; old style comment\n'
    + '// another\n'
    + 'action_url . incoming_call = http://h/i?name=$display_remote\n'
    + 'features.dnd.enable = 0\n';
  const r = yealink.read(text);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.unused, []);
  assert.deepEqual(r.config, {
    enabled: true,
    urls: { registered: 'http://h/r?mac=$mac', incoming_call: 'http://h/i?name=$display_remote' },
  });
  assert.equal(r.otherSettings, 2);
  assert.deepEqual(r.notes, []);
  assert.equal(r.missing.length, 32);
});

test('Yealink reader reports malformed lines, unknown action_url keys and repeated settings with line numbers', { timeout: 60_000 }, () => {
  const text = [
    '#!version:1.0.0.1',
    'action_url.registered = http://h/first',
    'action_url.foo = http://h/foo',
    'this line has no equals sign',
    '= value without key',
    'action_url.registered = http://h/second',
    'Config.Features.ACTIONURL.Enable = 1',
  ].join('\n');
  const r = yealink.read(text);
  assert.deepEqual(r.config.urls, { registered: 'http://h/second' });
  assert.deepEqual(r.unused.map((u) => [u.line, u.text]), [
    [2, 'action_url.registered = http://h/first'],
    [3, 'action_url.foo = http://h/foo'],
    [4, 'this line has no equals sign'],
    [5, '= value without key'],
    [7, 'Config.Features.ACTIONURL.Enable = 1'],
  ]);
  assert.match(r.unused[0].reason, /set again on line 6; the later setting wins/);
  assert.match(r.unused[1].reason, /"action_url\.foo" looks like an Action URL setting but is not the Yealink key/);
  assert.match(r.unused[2].reason, /malformed line/);
  assert.match(r.unused[3].reason, /malformed line/);
  // Yealink has no on/off switch: an Akuvox switch in a Yealink file is reported, not silently honoured.
  assert.match(r.unused[4].reason, /not the Yealink key/);
});

test('an empty value clears an incident: it is not reported and gives no URL', { timeout: 60_000 }, () => {
  const r = yealink.read('#!version:1.0.0.1\naction_url.registered =\naction_url.dnd_on = http://h/d\n');
  assert.deepEqual(r.unused, []);
  assert.deepEqual(r.config.urls, { dnd_on: 'http://h/d' });
});

test('Yealink reader notes a missing version line, since the phone would ignore the file', { timeout: 60_000 }, () => {
  const r = yealink.read('action_url.registered = http://h/r\n');
  assert.deepEqual(r.config.urls, { registered: 'http://h/r' });
  assert.match(r.notes.join('\n'), /first line is not "#!version:1\.0\.0\.1"/);
});

test('Yealink reader refuses XML, Fanvil and free text with a clear error instead of a list of bad lines', { timeout: 60_000 }, () => {
  assert.match(yealink.read('<?xml version="1.0"?><settings/>').error ?? '', /not a Yealink \.cfg file.*starts with "<"/);
  assert.match(yealink.read('<<VOIP CONFIG FILE>>Version:2.0000000000\r\n').error ?? '', /not a Yealink/);
  assert.match(yealink.read('Dear admin,\nplease set up the phones.\n').error ?? '', /no "key = value" line/);
  const r = yealink.read('');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.config, { enabled: false, urls: {} });
});

test('Akuvox writes the seed\'s "Active: Enabled" switch and reads 1/0, reporting other values', { timeout: 60_000 }, () => {
  const on = akuvox.write({ enabled: true, urls: { registered: 'http://h/r' } });
  assert.match(on, /^Config\.Features\.ACTIONURL\.Enable = 1$/m);
  assert.doesNotMatch(on, /#!version/);
  const off = akuvox.write({ enabled: false, urls: { registered: 'http://h/r' } });
  assert.match(off, /^Config\.Features\.ACTIONURL\.Enable = 0$/m);
  assert.match(off, /^action_url\.registered = http:\/\/h\/r$/m);

  const r = akuvox.read('config.features.actionurl.enable = yes\naction_url.hold = http://h/h\nConfig.Features.ACTIONURL.DoorOpen = http://h/x\n');
  assert.deepEqual(r.unused.map((u) => u.line), [1, 3]);
  assert.match(r.unused[0].reason, /must be 1 or 0, not "yes"/);
  assert.match(r.unused[1].reason, /"Config.Features.ACTIONURL.DoorOpen" looks like an Action URL setting but is not the Akuvox key of any catalog incident/);
  // No usable switch: on, because a URL is set, and the user is told why.
  assert.equal(r.config.enabled, true);
  assert.match(r.notes.join('\n'), /no "Config\.Features\.ACTIONURL\.Enable" setting; taken as on/);
});

test('Akuvox switch off is read as off even with URLs present', { timeout: 60_000 }, () => {
  const r = akuvox.read('Config.Features.ACTIONURL.Enable = 0\r\naction_url.registered = http://h/r\r\n');
  assert.deepEqual(r.config, { enabled: false, urls: { registered: 'http://h/r' } });
  assert.deepEqual(r.notes, []);
});

test('file names: Yealink lowercase MAC / y000000000000.cfg, Akuvox uppercase MAC / r000000000000.cfg', { timeout: 60_000 }, () => {
  assert.equal(yealink.fileName('00:15:65:AA:BB:CC'), '001565aabbcc.cfg');
  assert.equal(yealink.fileName(), 'y000000000000.cfg');
  assert.equal(akuvox.fileName('00-15-65-aa-bb-cc'), '001565AABBCC.cfg');
  assert.equal(akuvox.fileName(), 'r000000000000.cfg');
  assert.throws(() => yealink.fileName('not-a-mac'), /not a MAC address/);
});
