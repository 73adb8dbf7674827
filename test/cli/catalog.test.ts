import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run-cli.ts';

test('actionurl events --json prints the 34 incidents with vendor keys and filled variables', { timeout: 180_000 }, () => {
  const r = runCli(['events', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const events = JSON.parse(r.stdout);
  assert.equal(events.length, 34);
  const incoming = events.find((e: { slug: string }) => e.slug === 'incoming_call');
  assert.equal(incoming.keys.yealink, 'action_url.incoming_call');
  assert.equal(incoming.keys.fanvil, 'Incoming Call Url');
  assert.ok(incoming.variables.includes('display_remote'));
});

test('actionurl events prints a table, one line per incident', { timeout: 180_000 }, () => {
  const r = runCli(['events']);
  assert.equal(r.status, 0);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 35);
  // A column per vendor, Yealink and Akuvox (action_url.<slug>) included, each with its key for the incident.
  assert.match(lines[0], /^#\s+slug\s+name\s+yealink\s+akuvox\s+fanvil\s+snom\s+grandstream\s*$/);
  assert.match(lines[11], /^11\s+dnd_on\s+Open DND\s+action_url\.dnd_on\s+action_url\.dnd_on\s+DND On Url\s+action_dnd_on_url\s+P8316\s*$/);
});

test('actionurl vars lists variables with vendor spellings', { timeout: 180_000 }, () => {
  const text = runCli(['vars']);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /\$call_id .*\$call-id \(snom, grandstream\)/);
  const json = JSON.parse(runCli(['vars', '--json']).stdout);
  assert.equal(json.filter((v: { seed: boolean }) => v.seed).length, 12);
});

test('actionurl expand substitutes like a phone, and safe mode encodes', { timeout: 180_000 }, () => {
  const t = 'http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&name=$display_remote&id=$call-id';
  const raw = runCli(['expand', t, '--var', 'mac=001565aabbcc', '--var', 'display_remote=John Doe', '--var', '$call_id=4']);
  assert.equal(raw.status, 0, raw.stderr);
  assert.equal(raw.stdout, 'http://10.0.0.5:8080/actionurl/incoming_call?mac=001565aabbcc&name=John Doe&id=4\n');
  const safe = runCli(['expand', t, '--mode', 'safe', '--var', 'display_remote=John Doe']);
  assert.equal(safe.stdout, 'http://10.0.0.5:8080/actionurl/incoming_call?mac=$mac&name=John%20Doe&id=$call-id\n');
});

test('actionurl expand prints lint findings to stderr and refuses unknown variables', { timeout: 180_000 }, () => {
  const r = runCli(['expand', '10.0.0.5/x?m=$mac']);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /error at 0: the URL has no scheme.*fix: http:\/\/10\.0\.0\.5\/x\?m=\$mac/);
  const bad = runCli(['expand', 'http://s/', '--var', 'colour=red']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'error: unknown variable "colour" (see: actionurl vars)\n');
  assert.equal(runCli(['expand', 'http://s/', '--mode', 'loud']).status, 2);
});

test('actionurl with an unknown command fails with help', { timeout: 180_000 }, () => {
  const r = runCli(['frobnicate']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown command/);
});
