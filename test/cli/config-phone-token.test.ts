/** `config generate --mac M --token-secret S` writes the phone's own token; `serve --help` names the flag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phoneToken } from '../../src/core/phone-token.ts';
import { runCli } from './run-cli.ts';

const SERVER = 'http://10.0.0.5:8080';
const SECRET = 'per-phone-s3cret';

test('config generate --mac M --token-secret S puts that phone\'s own token in every URL', { timeout: 180_000 }, () => {
  const token = phoneToken(SECRET, '001565aabbcc');
  const r = runCli(['config', 'generate', '--vendor', 'yealink', '--server', SERVER, '--mac', '00:15:65:AA:BB:CC', '--token-secret', SECRET]);
  assert.equal(r.status, 0, r.stderr);
  const urls = r.stdout.split('\n').filter((l) => l.startsWith('action_url.') && l.includes('http'));
  assert.equal(urls.length, 34);
  for (const line of urls) assert.ok(line.includes(`&token=${token}`), line);
  assert.ok(!r.stdout.includes(SECRET));

  const another = runCli(['config', 'generate', '--vendor', 'grandstream', '--server', SERVER, '--mac', '0c383e112233', '--token-secret', SECRET]);
  assert.equal(another.status, 0, another.stderr);
  assert.ok(another.stdout.includes(`token=${phoneToken(SECRET, '0c383e112233')}`));
  assert.ok(!another.stdout.includes(token));
});

test('config generate --token-secret without --mac, with --token, or empty is a usage error (exit 2)', { timeout: 180_000 }, () => {
  const cases: [string[], RegExp][] = [
    [['--token-secret', SECRET], /--token-secret needs --mac/],
    [['--token-secret', SECRET, '--mac', '001565aabbcc', '--token', 'shared'], /^error: option '--token-secret <secret>' cannot be used with option '--token <token>'$/m],
    [['--token-secret', '', '--mac', '001565aabbcc'], /--token-secret must not be empty/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['config', 'generate', '--vendor', 'yealink', '--server', SERVER, ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('serve --help mentions per-phone tokens and their environment variable', { timeout: 180_000 }, () => {
  const r = runCli(['serve', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--token-secret <secret>/);
  assert.match(r.stdout, /ACTIONURL_TOKEN_SECRET/);
});
