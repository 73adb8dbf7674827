import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unsupportedIncidents } from '../../src/core/vendors/index.ts';
import { runCli } from './run-cli.ts';

const SERVER = 'http://10.0.0.5:8080';
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-config-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('config generate --vendor yealink prints a Yealink file for all 34 incidents, nothing on stderr', { timeout: 180_000 }, () => {
  const r = runCli(['config', 'generate', '--vendor', 'yealink', '--server', `${SERVER}/`, '--token', 's3cret']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], '#!version:1.0.0.1');
  assert.equal(lines.filter((l) => l.startsWith('action_url.')).length, 34);
  assert.ok(lines.includes(
    'action_url.registered = http://10.0.0.5:8080/actionurl/registered?mac=$mac&ip=$ip&model=$model&firmware=$firmware'
    + '&active_url=$active_url&active_user=$active_user&active_host=$active_host&token=s3cret',
  ));
});

test('config generate for Snom notes on stderr the incidents Snom lacks, and stdout stays a clean file', { timeout: 180_000 }, () => {
  const r = runCli(['config', 'generate', '--vendor', 'snom', '--server', SERVER]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<settings>/);
  assert.doesNotMatch(r.stdout, /note/);
  const lacking = unsupportedIncidents('snom');
  assert.equal(r.stderr, `note: Snom phones have no setting for ${lacking.length} incidents, left out: ${lacking.join(', ')}\n`);
});

test('config generate --vendor fanvil writes CRLF bytes exactly to stdout', { timeout: 180_000 }, () => {
  const r = runCli(['config', 'generate', '--vendor', 'fanvil', '--server', SERVER, '--mac', '00a859aabbcc']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith('<<VOIP CONFIG FILE>>Version:2.0000000000'));
  assert.ok(r.stdout.endsWith('\r\n<<END OF FILE>>\r\n'));
  assert.doesNotMatch(r.stdout.replace(/\r\n/g, ''), /\n/);
});

test('config generate accepts a MAC in any spelling and names the file after it in --out DIR/', { timeout: 180_000 }, () => {
  const dir = tmp();
  for (const [mac, vendor, file] of [
    ['00:15:65:AA:BB:CC', 'yealink', '001565aabbcc.cfg'],
    ['00-15-65-aa-bb-cc', 'akuvox', '001565AABBCC.cfg'],
    ['000413aabbcc', 'snom', '000413AABBCC.xml'],
    ['00:0B:82:AA:BB:CC', 'grandstream', 'cfg000b82aabbcc.xml'],
  ]) {
    const r = runCli(['config', 'generate', '--vendor', vendor, '--server', SERVER, '--mac', mac, '--out', `${dir}/`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `wrote ${join(dir, file)}\n`);
    assert.match(readFileSync(join(dir, file), 'utf8'), /\/actionurl\/registered\?mac=\$mac/);
  }
  // An existing directory works without the trailing slash; Grandstream gets its MAC inside the file.
  const r = runCli(['config', 'generate', '--vendor', 'grandstream', '--server', SERVER, '--mac', '000b82112233', '--format', 'v2', '--out', dir]);
  assert.equal(r.status, 0, r.stderr);
  const gs = readFileSync(join(dir, 'cfg000b82112233.xml'), 'utf8');
  assert.match(gs, /<mac>000b82112233<\/mac>\n {2}<config version="2">/);
  assert.match(r.stderr, /v2 aliases .* unconfirmed/);
});

test('config generate refuses a bad MAC with one line and exit code 2, writing nothing', { timeout: 180_000 }, () => {
  const dir = tmp();
  for (const mac of ['00:15:65:AA:BB', '00:15:65:AA:BB:GG', 'hello']) {
    const r = runCli(['config', 'generate', '--vendor', 'yealink', '--server', SERVER, '--mac', mac, '--out', `${dir}/`]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `error: --mac "${mac}" is not a MAC address; expected 12 hex digits such as 00:15:65:AA:BB:CC\n`);
  }
});

test('config generate refuses other usage mistakes with exit code 2', { timeout: 180_000 }, () => {
  const cases: [string[], RegExp][] = [
    [['--vendor', 'cisco', '--server', SERVER], /^error: option '--vendor <vendor>' argument 'cisco' is invalid\. Expected one of yealink, akuvox, fanvil, snom, grandstream\.$/m],
    [['--server', SERVER], /--vendor is required/],
    [['--vendor', 'yealink'], /--server is required/],
    [['--vendor', 'yealink', '--server', 'ftp://h'], /must start with http:\/\/ or https:\/\//],
    [['--vendor', 'yealink', '--server', SERVER, '--format', 'v2'], /--format applies to grandstream only/],
    [['--vendor', 'grandstream', '--server', SERVER, '--format', 'v9'], /--format "v9" is not a Grandstream format; expected v1 or v2/],
    [['--vendor', 'fanvil', '--server', SERVER, '--out', `${tmp()}/`], /Fanvil phones have no common config file name; give --mac/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['config', 'generate', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:')).length, 1);
  }
});

test('config convert reports unusable lines and incidents the target lacks, and writes the rest', { timeout: 180_000 }, () => {
  const dir = tmp();
  const src = join(dir, '001565aabbcc.cfg');
  writeFileSync(src, [
    '#!version:1.0.0.1',
    'action_url.registered = http://h/r?mac=$mac&ip=$ip',
    'action_url.mute = http://h/m',
    'action_url.foo = http://h/foo',
    'garbage',
  ].join('\r\n'));
  const r = runCli(['config', 'convert', '--from', 'yealink', '--to', 'snom', src, '--out', `${dir}/out/`]);
  assert.equal(r.status, 0, r.stderr);
  const out = join(dir, 'out', '001565AABBCC.xml');
  assert.equal(r.stdout, `wrote ${out}\n`);
  assert.match(r.stderr, new RegExp(`${src}:4: "action_url.foo" looks like an Action URL setting`));
  assert.match(r.stderr, new RegExp(`${src}:5: malformed line`));
  assert.match(r.stderr, /note: Snom phones have no setting for 1 incident, left out: mute/);
  assert.match(r.stderr, /respelled as Snom phones expect them: \$ip -> \$phone_ip/);
  assert.match(readFileSync(out, 'utf8'), /<action_log_on_url perm="">http:\/\/h\/r\?mac=\$mac&amp;ip=\$phone_ip<\/action_log_on_url>/);
});

test('config convert fails with exit 1 when the input is not the --from vendor\'s format', { timeout: 180_000 }, () => {
  const dir = tmp();
  const src = join(dir, 'phone.xml');
  writeFileSync(src, '<settings><phone-settings/></settings>');
  const r = runCli(['config', 'convert', '--from', 'fanvil', '--to', 'yealink', src]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /not a Fanvil config file/);
  const missing = runCli(['config', 'convert', '--from', 'fanvil', '--to', 'yealink', join(dir, 'nope.cfg')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*nope\.cfg: ENOENT/);
});

test('config check reports what a phone would take from a file; exit 0 when clean, 1 on errors', { timeout: 180_000 }, () => {
  const dir = tmp();
  const good = join(dir, 'good.cfg');
  writeFileSync(good, 'Config.Features.ACTIONURL.Enable = 1\naction_url.registered = http://h/r?mac=$mac\n');
  const ok = runCli(['config', 'check', '--vendor', 'akuvox', good]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Action URL: on\n/);
  assert.match(ok.stdout, /incidents with a URL: 1 of 34: registered/);

  const bad = join(dir, 'bad.xml');
  writeFileSync(bad, '<settings><phone-settings>\n<action_foo perm="">x</action_foo>\n<action_hold>http://h/h?x=$nope</action_hold>\n</phone-settings></settings>');
  const r = runCli(['config', 'check', '--vendor', 'snom', bad, '--json']);
  assert.equal(r.status, 1);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(json.config, { enabled: true, urls: { hold: 'http://h/h?x=$nope' } });
  assert.deepEqual(json.unused.map((u: { line: number }) => u.line), [2]);
  assert.ok(json.urlProblems.some((p: { message: string }) => p.message.includes('$nope')));
});
