import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getVendorCodec } from '../../../src/core/vendors/index.ts';

const fanvil = getVendorCodec('fanvil');

test('Fanvil file: exact header, CTI section, switch, padded keys, footer, CRLF only', { timeout: 60_000 }, () => {
  const text = fanvil.write({
    enabled: true,
    urls: { setup_completed: 'http://h/boot?mac=$mac', missed_call: 'http://h/m', idle_to_busy: 'http://h/b' },
  });
  assert.equal(text, [
    // Fanvil's own exports pad the header to 62 characters (64 bytes with CRLF).
    '<<VOIP CONFIG FILE>>Version:2.0000000000                      ',
    '',
    '<CTI CONFIG MODULE>',
    'Enabled Action Url :1',
    'Boot Completed Url :http://h/boot?mac=$mac',
    'New Missed call Url:http://h/m',
    'PhoneState Talking Url:http://h/b',
    '',
    '<<END OF FILE>>',
    '',
  ].join('\r\n'));
  assert.equal(text.split('\r\n')[0].length + 2, 64);
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/);
});

test('Fanvil switch off is written as 0 and the URLs are kept', { timeout: 60_000 }, () => {
  const text = fanvil.write({ enabled: false, urls: { registered: 'http://h/r' } });
  assert.match(text, /\r\nEnabled Action Url :0\r\n/);
  assert.match(text, /\r\nReg On Url {9}:http:\/\/h\/r\r\n/);
});

test('a full Fanvil export: Action URL is read from the CTI section only, other modules are ignored', { timeout: 60_000 }, () => {
  const text = [
    '<<VOIP CONFIG FILE>>Version:2.0002                            ',
    '',
    '<GLOBAL CONFIG MODULE>',
    'Static IP          :192.168.1.179',
    'DayLight Start Week:5',
    '--Port Config--    :',
    '',
    '<SIP CONFIG MODULE>',
    'SIP1 Phone Number  :203',
    'Reg On Url         :http://wrong/section',
    '',
    '<CTI CONFIG MODULE>',
    '# Action URL',
    'Enable CTI         :1',
    'enabled   action url:1',
    'REG ON URL         :http://h/r?mac=$mac&ip=$ip',
    'Onhook Uri         :http://h/on',
    'Held On Url        :http://h/held',
    'No colon here',
    'Incoming Call Url  :',
    '',
    '<<END OF FILE>>',
    'Call Stop Url      :http://h/late',
  ].join('\n');
  const r = fanvil.read(text);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.config, { enabled: true, urls: { registered: 'http://h/r?mac=$mac&ip=$ip', on_hook: 'http://h/on' } });
  assert.deepEqual(r.unused.map((u) => [u.line, u.reason]), [
    [10, 'Action URL setting outside <CTI CONFIG MODULE>; the phone does not read it there'],
    [18, '"Held On Url" looks like a Fanvil Action URL key but no catalog incident uses it'],
    [19, 'malformed line: expected "Key :value"'],
    [23, 'after <<END OF FILE>>: the phone stops reading there'],
  ]);
  assert.equal(r.unused[1].text, 'Held On Url        :http://h/held');
  assert.equal(r.otherSettings, 5);
  assert.deepEqual(r.notes, []);
});

test('Fanvil reader tolerates a BOM, LF endings and a missing footer, and says what is missing', { timeout: 60_000 }, () => {
  const r = fanvil.read('\uFEFF<CTI CONFIG MODULE>\nReg On Url :http://h/r\n');
  assert.deepEqual(r.config, { enabled: true, urls: { registered: 'http://h/r' } });
  const notes = r.notes.join('\n');
  assert.match(notes, /first line is not "<<VOIP CONFIG FILE>>/);
  assert.match(notes, /no "<<END OF FILE>>" line/);
  assert.match(notes, /no "Enabled Action Url" setting; taken as on/);
});

test('Fanvil reader points out the "Onhook Url" spelling the phone would ignore', { timeout: 60_000 }, () => {
  const r = fanvil.read('<<VOIP CONFIG FILE>>Version:2.0000000000\r\n<CTI CONFIG MODULE>\r\nOnhook Url :http://h/on\r\n<<END OF FILE>>\r\n');
  assert.deepEqual(r.config.urls, {});
  assert.deepEqual(r.unused.map((u) => [u.line, u.reason]), [[3, '"Onhook Url" is not a Fanvil key; the phone\'s key for on_hook is "Onhook Uri"']]);
});

test('Fanvil switch values other than 1/0 are reported, not guessed', { timeout: 60_000 }, () => {
  const r = fanvil.read('<<VOIP CONFIG FILE>>Version:2.0000000000\r\n<CTI CONFIG MODULE>\r\nEnabled Action Url :yes\r\n<<END OF FILE>>\r\n');
  assert.deepEqual(r.unused.map((u) => [u.line, u.reason]), [[3, '"Enabled Action Url" must be 1 or 0, not "yes"']]);
});

test('Fanvil reader refuses files that are not Fanvil text configs', { timeout: 60_000 }, () => {
  assert.match(fanvil.read('#!version:1.0.0.1\naction_url.registered = http://h/\n').error ?? '', /not a Fanvil config file/);
  assert.match(fanvil.read('<?xml version="1.0"?><sysConf/>').error ?? '', /Fanvil's XML format is not supported/);
});

test('Fanvil file name is the lowercase MAC; there is no common file for all models', { timeout: 60_000 }, () => {
  assert.equal(fanvil.fileName('00:A8:59:AA:BB:CC'), '00a859aabbcc.cfg');
  assert.equal(fanvil.fileName(), undefined);
});
