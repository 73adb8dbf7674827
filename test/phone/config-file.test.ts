import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VENDOR_IDS, getVendorCodec, supportedIncidents } from '../../src/core/vendors/index.ts';
import { checkConfig } from '../../src/phone/settings/action-url.ts';
import { detectVendor, isRefused, loadConfigText, saveConfigText } from '../../src/phone/settings/config-file.ts';
import { buildIdentity, ipForMac, macForIndex } from '../../src/phone/settings/identity.ts';

const config = {
  enabled: true,
  urls: {
    registered: 'http://10.0.0.5:8080/actionurl/registered?mac=$mac&ip=$ip',
    incoming_call: 'http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&display_remote=$display_remote;remote=$remote',
    dnd_on: 'https://10.0.0.5/dnd?mac=$mac',
  },
};

for (const vendor of VENDOR_IDS) {
  test(`${vendor}: a saved config loads back the same, and its format is recognised`, { timeout: 60_000 }, () => {
    const rendered = saveConfigText(config, vendor, '00:15:65:aa:bb:cc');
    assert.equal(detectVendor(rendered.text, rendered.fileName) === vendor || vendor === 'akuvox' && detectVendor(rendered.text) === 'akuvox', true,
      `detected ${detectVendor(rendered.text, rendered.fileName)}`);
    const loaded = loadConfigText(rendered.text, { vendor });
    assert.ok(!isRefused(loaded), isRefused(loaded) ? loaded.problems.join('\n') : '');
    const supported = new Set(supportedIncidents(vendor));
    const expected = Object.fromEntries(Object.entries(config.urls).filter(([slug]) => supported.has(slug)));
    assert.deepEqual(loaded.config.urls, expected);
    assert.equal(loaded.config.enabled, true);
  });
}

test('switched off: a phone with a switch keeps its URLs; the file says off', { timeout: 60_000 }, () => {
  const rendered = saveConfigText({ ...config, enabled: false }, 'akuvox');
  const loaded = loadConfigText(rendered.text);
  assert.ok(!isRefused(loaded));
  assert.equal(loaded.vendor, 'akuvox');
  assert.equal(loaded.config.enabled, false);
  assert.equal(loaded.config.urls.registered, config.urls.registered);
});

test('a file with an unusable line is refused, with the line number and the reason', { timeout: 60_000 }, () => {
  const text = [
    '#!version:1.0.0.1',
    'action_url.registered = http://10.0.0.5/r?mac=$mac',
    'action_url.regstered = http://10.0.0.5/typo',
    'this line is broken',
  ].join('\n');
  const r = loadConfigText(text, { fileName: 'y000000000000.cfg' });
  assert.ok(isRefused(r));
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0], /^line 3: .*regstered/);
  assert.match(r.problems[1], /^line 4: malformed line/);
});

test('a file with a URL the linter calls an error is refused at the URL\'s line', { timeout: 60_000 }, () => {
  const text = '#!version:1.0.0.1\naction_url.registered = http://ok/r\naction_url.dnd_on = ftp://10.0.0.5/dnd\n';
  const r = loadConfigText(text);
  assert.ok(isRefused(r));
  assert.deepEqual(r.problems.length, 1);
  assert.match(r.problems[0], /^line 3: dnd_on: .*scheme/);
});

test('warnings do not refuse a file; they come back as notes', { timeout: 60_000 }, () => {
  const text = '#!version:1.0.0.1\naction_url.registered = http://10.0.0.5/r?who=$remote\n';
  const r = loadConfigText(text);
  assert.ok(!isRefused(r));
  assert.ok(r.notes.some((n) => n.startsWith('registered:') && n.includes('$remote')));
});

test('text in no known format is refused with a hint to name the vendor', { timeout: 60_000 }, () => {
  const r = loadConfigText('hello world');
  assert.ok(isRefused(r));
  assert.match(r.error, /which vendor/);
  assert.equal(detectVendor(getVendorCodec('fanvil').write(config)), 'fanvil');
});

test('checkConfig: errors block, warnings inform, empty URLs are "no URL"', { timeout: 60_000 }, () => {
  const c = checkConfig({ enabled: true, urls: { registered: 'http:///x', hold: '', mute: 'http://h/m?x=$remote', bogus: 'http://h/' } });
  assert.equal(c.ok, false);
  assert.deepEqual(c.errors.map((e) => `${e.slug}:${e.code}`).sort(), ['bogus:unknown_incident', 'registered:missing_host']);
  assert.deepEqual(c.warnings.map((w) => w.slug), []);
  assert.equal(checkConfig({ enabled: true, urls: { registered: 'http://h/r?x=$remote' } }).warnings[0].code, 'not_filled');
});

test('generated identities: one MAC gives one phone; fleet MACs and IPs are distinct', { timeout: 60_000 }, () => {
  const a = buildIdentity({ mac: '00-15-65-AA-BB-CC' });
  assert.equal(a.mac, '001565aabbcc');
  assert.deepEqual(buildIdentity({ mac: '001565aabbcc' }), a);
  assert.equal(a.accounts.length, 1);
  assert.ok(a.accounts[0].user.length > 0 && a.accounts[0].host.length > 0);
  assert.throws(() => buildIdentity({ mac: 'nope' }), /not a MAC/);
  const macs = Array.from({ length: 5000 }, (_, i) => macForIndex(i));
  assert.equal(new Set(macs).size, 5000);
  assert.equal(new Set(macs.map(ipForMac)).size, 5000);
});

test('a fleet phone reports an address on this machine (127.0.0.0/8), never a made-up LAN address', { timeout: 10_000 }, () => {
  for (let n = 0; n < 2000; n += 7) {
    const ip = ipForMac(macForIndex(n));
    assert.match(ip, /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
    assert.ok(ip.split('.').map(Number).every((x) => x >= 0 && x <= 255), ip);
    assert.ok(!/\.(0|255)$/.test(ip), ip);
  }
});
