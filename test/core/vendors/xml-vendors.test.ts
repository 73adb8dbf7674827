import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, getVendorCodec, unescapeXml } from '../../../src/core/vendors/index.ts';

const snom = getVendorCodec('snom');
const gs = getVendorCodec('grandstream');
const URL_WITH_META = 'http://h/i?mac=$mac&name=$display_remote&x=<a>&q="\'';

test('escapeXml escapes all five XML metacharacters; unescapeXml reverses it, numeric references included', { timeout: 60_000 }, () => {
  assert.equal(escapeXml(URL_WITH_META), 'http://h/i?mac=$mac&amp;name=$display_remote&amp;x=&lt;a&gt;&amp;q=&quot;&apos;');
  assert.deepEqual(unescapeXml('a&amp;b&#38;c&#x26;d&lt;&GT;&quot;&apos;&#233;'), { value: 'a&b&c&d<>"\'é', loose: [] });
  assert.deepEqual(unescapeXml('a&b&nbsp;&#0;'), {
    value: 'a&b&nbsp;&#0;',
    loose: ['a bare "&" (write it as &amp;)', 'an unknown entity "&nbsp;"', 'an invalid character reference "&#0;"'],
  });
});

test('Snom file: settings/phone-settings, perm="" on each setting, & written as &amp;', { timeout: 60_000 }, () => {
  const text = snom.write({ enabled: true, urls: { incoming_call: URL_WITH_META } });
  assert.equal(text, [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<settings>',
    '  <phone-settings>',
    `    <action_incoming_url perm="">${escapeXml(URL_WITH_META)}</action_incoming_url>`,
    '  </phone-settings>',
    '</settings>',
    '',
  ].join('\n'));
  assert.equal(snom.read(text).config.urls.incoming_call, URL_WITH_META);
});

test('a hand-written Snom file: comments, CDATA, entities, other settings, function keys, CRLF, BOM', { timeout: 60_000 }, () => {
  const text = '\uFEFF<?xml version="1.0" encoding="utf-8"?>\r\n'
    + '<!-- reception phones -->\r\n'
    + '<settings>\r\n'
    + '  <phone-settings e="2">\r\n'
    + '    <language perm="">English</language>\r\n'
    + '    <!-- <action_dnd_on_url perm="">http://commented/out</action_dnd_on_url> -->\r\n'
    + '    <action_incoming_url perm="RW">http://h/i?mac=$mac&amp;id=$call-id&#38;n=1</action_incoming_url>\n'
    + '    <ACTION_LOG_ON_URL><![CDATA[http://h/r?a=1&b=<2>]]></ACTION_LOG_ON_URL>\n'
    + '    <action_setup_url perm=""/>\n'
    + '  </phone-settings>\n'
    + '  <functionKeys><fkey idx="0" context="active" perm="">line</fkey></functionKeys>\n'
    + '</settings>\n';
  const r = snom.read(text);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.unused, []);
  assert.deepEqual(r.config, {
    enabled: true,
    urls: { registered: 'http://h/r?a=1&b=<2>', incoming_call: 'http://h/i?mac=$mac&id=$call-id&n=1' },
  });
  assert.equal(r.otherSettings, 2);
});

test('Snom reader reports unknown action settings, markup in values, broken XML, with line numbers', { timeout: 60_000 }, () => {
  const text = [
    '<?xml version="1.0"?>',
    '<settings>',
    '<action_hold>http://h/outside</action_hold>',
    '<phone-settings>',
    '<action_foo_url perm="">http://h/foo</action_foo_url>',
    '<action_hold perm=""><b>bold</b></action_hold>',
    '<action_unhold perm="">http://h/u?a=1&b=2</action_unhold>',
    '<action_mute_url perm="">http://h/m',
    '</phone-settings>',
    '</settings>',
  ].join('\n');
  const r = snom.read(text);
  assert.deepEqual(r.unused.map((u) => [u.line, u.reason]), [
    [3, '<action_hold> is outside <phone-settings>; the phone does not read it there'],
    [5, '<action_foo_url> looks like a Snom action URL setting but no catalog incident uses it'],
    [6, '<action_hold> holds markup (<b>), not a URL'],
    [8, 'XML: <action_mute_url> is not closed before </phone-settings>'],
    [8, '<action_mute_url> looks like a Snom action URL setting but no catalog incident uses it'],
  ]);
  // A bare & is kept (forgiving phone parsers do the same) and the user is told the file is not well-formed.
  assert.deepEqual(r.config.urls, { unhold: 'http://h/u?a=1&b=2' });
  assert.match(r.notes.join('\n'), /line 7: <action_unhold> has a bare "&"/);
});

test('Snom reader refuses non-Snom text with one clear error', { timeout: 60_000 }, () => {
  assert.match(snom.read('hello').error ?? '', /not a Snom settings file: there is no XML element/);
  assert.match(snom.read('<gs_provision version="1"></gs_provision>').error ?? '', /root element is <gs_provision>, expected <settings>/);
});

test('Snom file name is the uppercase MAC', { timeout: 60_000 }, () => {
  assert.equal(snom.fileName('000413aabbcc'), '000413AABBCC.xml');
  assert.equal(snom.fileName(), undefined);
});

test('Grandstream v1: P-codes, the MAC inside the file, & escaped', { timeout: 60_000 }, () => {
  const text = gs.write({ enabled: true, urls: { incoming_call: 'http://h/i?a=1&b=2' } }, { mac: '00:0B:82:AA:BB:CC' });
  assert.equal(text, [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gs_provision version="1">',
    '  <mac>000b82aabbcc</mac>',
    '  <config version="1">',
    '    <P8310>http://h/i?a=1&amp;b=2</P8310>',
    '  </config>',
    '</gs_provision>',
    '',
  ].join('\n'));
  const r = gs.read(text);
  assert.equal(r.format, 'v1');
  assert.equal(r.mac, '000b82aabbcc');
  assert.deepEqual(r.config.urls, { incoming_call: 'http://h/i?a=1&b=2' });
});

test('Grandstream v2: items named by alias', { timeout: 60_000 }, () => {
  const text = gs.write({ enabled: true, urls: { incoming_call: 'http://h/i' } }, { format: 'v2' });
  assert.match(text, /<config version="2">\n {4}<item name="ons\.actionUrl\.incomingCall">http:\/\/h\/i<\/item>/);
  assert.equal(gs.read(text).format, 'v2');
  assert.throws(() => gs.write({ enabled: true, urls: {} }, { format: 'v3' }), /unknown Grandstream format "v3"/);
});

test('Grandstream reader takes v1 and v2 mixed, other P-codes ignored, unknown Action URL codes reported', { timeout: 60_000 }, () => {
  const text = [
    '<?xml version="1.0" encoding="UTF-8" ?>',
    '<gs_provision version="1">',
    '  <mac>00:0b:82:aa:bb:cc</mac>',
    '  <config version="1">',
    '    <P271>1</P271>',
    '    <p8305>http://h/r?mac=$mac</p8305>',
    '    <item name="ONS.ACTIONURL.INCOMINGCALL">http://h/i?x=&#x24;</item>',
    '    <P8307>http://h/unknown</P8307>',
    '    <item name="ons.actionUrl.somethingElse">http://h/x</item>',
    '    <item>nameless</item>',
    '  </config>',
    '</gs_provision>',
  ].join('\r\n');
  const r = gs.read(text);
  assert.deepEqual(r.config.urls, { registered: 'http://h/r?mac=$mac', incoming_call: 'http://h/i?x=$' });
  assert.equal(r.mac, '000b82aabbcc');
  assert.equal(r.otherSettings, 1);
  assert.deepEqual(r.unused.map((u) => [u.line, u.reason]), [
    [8, '"P8307" looks like a Grandstream Action URL setting but no catalog incident uses it'],
    [9, '"ons.actionUrl.somethingElse" looks like a Grandstream Action URL setting but no catalog incident uses it'],
    [10, '<item> without a name attribute'],
  ]);
});

test('Grandstream reader refuses other XML and reports a bad <mac>', { timeout: 60_000 }, () => {
  assert.match(gs.read('<settings></settings>').error ?? '', /root element is <settings>, expected <gs_provision>/);
  const r = gs.read('<gs_provision><mac>xyz</mac><config version="1"></config></gs_provision>');
  assert.deepEqual(r.unused.map((u) => u.reason), ['<mac> holds "xyz", which is not a MAC address']);
});

test('Grandstream file names: cfg<mac>.xml and cfg.xml', { timeout: 60_000 }, () => {
  assert.equal(gs.fileName('00-0B-82-AA-BB-CC'), 'cfg000b82aabbcc.xml');
  assert.equal(gs.fileName(), 'cfg.xml');
});
