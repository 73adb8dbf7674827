import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  INCIDENTS,
  VARIABLES,
  SEED_VARIABLES,
  canonicalVariableName,
  getIncident,
  isIncidentSlug,
  variablesFilledBy,
  seedVariablesFilledBy,
} from '../../src/core/catalog.ts';

test('the catalog holds the seed\'s 34 incidents, numbered 1..34, with unique slugs', { timeout: 60_000 }, () => {
  assert.equal(INCIDENTS.length, 34);
  assert.deepEqual(INCIDENTS.map((i) => i.n), Array.from({ length: 34 }, (_, k) => k + 1));
  assert.equal(new Set(INCIDENTS.map((i) => i.slug)).size, 34);
  for (const i of INCIDENTS) assert.match(i.slug, /^[a-z_]+$/);
});

test('every incident carries its Yealink/Akuvox key action_url.<slug>', { timeout: 60_000 }, () => {
  for (const i of INCIDENTS) {
    assert.equal(i.keys.yealink, `action_url.${i.slug}`);
    assert.equal(i.keys.akuvox, `action_url.${i.slug}`);
  }
});

test('vendor keys match the vendor facts for well-known incidents', { timeout: 60_000 }, () => {
  assert.equal(getIncident('incoming_call').keys.grandstream, 'P8310');
  assert.equal(getIncident('incoming_call').keys.grandstreamAlias, 'ons.actionUrl.incomingCall');
  assert.equal(getIncident('on_hook').keys.fanvil, 'Onhook Uri');
  assert.equal(getIncident('call_established').keys.snom, 'action_connected_url');
  assert.equal(getIncident('busy_fwd_on').keys.snom, undefined);
  assert.equal(getIncident('register_failed').keys.grandstream, undefined);
});

test('vendor keys are unique per vendor, so a config file maps back to one incident', { timeout: 60_000 }, () => {
  for (const vendor of ['fanvil', 'snom', 'grandstream', 'grandstreamAlias'] as const) {
    const keys = INCIDENTS.map((i) => i.keys[vendor]).filter((k) => k !== undefined);
    assert.equal(new Set(keys).size, keys.length, vendor);
  }
});

test('the seed\'s 12 variables are marked and come first', { timeout: 60_000 }, () => {
  assert.deepEqual(
    SEED_VARIABLES.map((v) => v.name),
    ['mac', 'ip', 'model', 'firmware', 'active_url', 'active_user', 'active_host', 'local', 'remote',
      'display_local', 'display_remote', 'call_id'],
  );
  assert.ok(VARIABLES.length > 12);
});

test('vendor spellings map to canonical names', { timeout: 60_000 }, () => {
  assert.equal(canonicalVariableName('call-id'), 'call_id');
  assert.equal(canonicalVariableName('phone_ip'), 'ip');
  assert.equal(canonicalVariableName('product'), 'model');
  assert.equal(canonicalVariableName('program_version'), 'firmware');
  assert.equal(canonicalVariableName('calldirection'), 'call_direction');
  assert.equal(canonicalVariableName('mac'), 'mac');
  assert.equal(canonicalVariableName('nonsense'), undefined);
});

test('account incidents fill only device and account variables; call incidents fill call variables', { timeout: 60_000 }, () => {
  const registered = variablesFilledBy('registered').map((v) => v.name);
  assert.ok(registered.includes('active_user'));
  assert.ok(!registered.includes('remote'));
  assert.ok(!registered.includes('call_id'));
  const incoming = seedVariablesFilledBy('incoming_call').map((v) => v.name);
  assert.equal(incoming.length, 12);
  assert.deepEqual(seedVariablesFilledBy('setup_completed').map((v) => v.name), ['mac', 'ip', 'model', 'firmware']);
});

test('slug lookups', { timeout: 60_000 }, () => {
  assert.ok(isIncidentSlug('dnd_on'));
  assert.ok(!isIncidentSlug('dnd'));
  assert.throws(() => getIncident('nope'), /unknown incident "nope"/);
});
