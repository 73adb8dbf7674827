import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestConfig } from '../../../src/core/ingest-url.ts';
import {
  convertConfigFile, getVendorCodec, respellVariables, unsupportedIncidents, vendorsForFileName,
} from '../../../src/core/vendors/index.ts';

test('converting Yealink to Snom lists every incident Snom lacks and keeps the rest', { timeout: 60_000 }, () => {
  const yealinkText = getVendorCodec('yealink').write(ingestConfig('http://10.0.0.5:8080'));
  const { read, rendered } = convertConfigFile(yealinkText, 'yealink', 'snom');
  assert.ok(rendered);
  assert.equal(Object.keys(read.config.urls).length, 34);
  assert.deepEqual(rendered.lacking, unsupportedIncidents('snom'));
  assert.ok(rendered.lacking.includes('mute'));
  const snomRead = getVendorCodec('snom').read(rendered.text);
  assert.equal(Object.keys(snomRead.config.urls).length, 34 - rendered.lacking.length);
});

test('conversion respells variables for the target phone and says so', { timeout: 60_000 }, () => {
  const text = '#!version:1.0.0.1\naction_url.incoming_call = http://h/i?ip=$ip&id=$call_id&u=$active_user\n';
  const { rendered } = convertConfigFile(text, 'yealink', 'grandstream');
  assert.ok(rendered);
  const url = getVendorCodec('grandstream').read(rendered.text).config.urls.incoming_call;
  assert.equal(url, 'http://h/i?ip=$phone_ip&id=$call-id&u=$active_user');
  assert.match(rendered.notes.join('\n'), /respelled as Grandstream phones expect them: \$ip -> \$phone_ip, \$call_id -> \$call-id/);
  // Back to Yealink-family phones, the seed's spellings return.
  assert.equal(respellVariables('x=$phone_ip&y=$call-id', 'akuvox').url, 'x=$ip&y=$call_id');
  // Yealink understands its own $callerID; Akuvox gets the seed's name.
  assert.deepEqual(respellVariables('n=$callerID', 'yealink'), { url: 'n=$callerID', changes: [] });
  assert.equal(respellVariables('n=$callerID', 'akuvox').url, 'n=$display_remote');
});

test('Akuvox off converts to Fanvil off; the switch survives between vendors that have it', { timeout: 60_000 }, () => {
  const { rendered } = convertConfigFile('Config.Features.ACTIONURL.Enable = 0\naction_url.hold = http://h/h\n', 'akuvox', 'fanvil');
  assert.ok(rendered);
  assert.deepEqual(getVendorCodec('fanvil').read(rendered.text).config, { enabled: false, urls: { hold: 'http://h/h' } });
});

test('conversion carries the MAC from a Grandstream file into the target file name', { timeout: 60_000 }, () => {
  const gsText = getVendorCodec('grandstream').write({ enabled: true, urls: { hold: 'http://h/h' } }, { mac: '000b82aabbcc' });
  const { rendered } = convertConfigFile(gsText, 'grandstream', 'snom');
  assert.equal(rendered?.fileName, '000B82AABBCC.xml');
});

test('Grandstream to Grandstream keeps the source format unless another is asked for', { timeout: 60_000 }, () => {
  const v2 = getVendorCodec('grandstream').write({ enabled: true, urls: { hold: 'http://h/h' } }, { format: 'v2' });
  assert.match(convertConfigFile(v2, 'grandstream', 'grandstream').rendered?.text ?? '', /<item name=/);
  assert.match(convertConfigFile(v2, 'grandstream', 'grandstream', { format: 'v1' }).rendered?.text ?? '', /<P8324>/);
});

test('a source that is not the named vendor\'s format gives an error and no output file', { timeout: 60_000 }, () => {
  const { read, rendered } = convertConfigFile('<settings/>', 'fanvil', 'yealink');
  assert.match(read.error ?? '', /not a Fanvil config file/);
  assert.equal(rendered, undefined);
});

test('vendorsForFileName tells the provisioning endpoint who asks for a file and for which MAC', { timeout: 60_000 }, () => {
  assert.deepEqual(vendorsForFileName('y000000000000.cfg'), [{ vendor: 'yealink' }]);
  assert.deepEqual(vendorsForFileName('r000000000000.cfg'), [{ vendor: 'akuvox' }]);
  assert.deepEqual(vendorsForFileName('cfg000b82aabbcc.xml'), [{ vendor: 'grandstream', mac: '000b82aabbcc' }]);
  assert.deepEqual(vendorsForFileName('000413AABBCC.xml'), [{ vendor: 'snom', mac: '000413aabbcc' }]);
  assert.deepEqual(vendorsForFileName('001565AABBCC.cfg').map((m) => m.vendor), ['yealink', 'akuvox', 'fanvil']);
  assert.deepEqual(vendorsForFileName('../etc/passwd'), []);
});
