import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { INCIDENTS } from '../../../src/core/catalog.ts';
import { ingestConfig } from '../../../src/core/ingest-url.ts';
import {
  getVendorCodec, renderConfigFile, supportedIncidents, unsupportedIncidents, VENDOR_IDS,
  type ActionUrlConfig, type VendorId,
} from '../../../src/core/vendors/index.ts';

/** Every vendor and format variant a user can ask for. */
const VARIANTS: { vendor: VendorId; format?: string }[] = VENDOR_IDS.flatMap((vendor) =>
  getVendorCodec(vendor).formats.length > 1
    ? getVendorCodec(vendor).formats.map((format) => ({ vendor, format }))
    : [{ vendor }],
);
const name = (v: { vendor: string; format?: string }) => (v.format ? `${v.vendor} ${v.format}` : v.vendor);

const only = (config: ActionUrlConfig, slugs: string[]) =>
  Object.fromEntries(slugs.filter((s) => s in config.urls).map((s) => [s, config.urls[s]]));

for (const variant of VARIANTS) {
  const codec = getVendorCodec(variant.vendor);

  test(`${name(variant)}: a generated config reads back with every incident the vendor supports`, { timeout: 60_000 }, () => {
    const config = ingestConfig('http://10.0.0.5:8080', { token: 'a&b<c>"d\'', vendor: variant.vendor });
    const text = codec.write(config, { mac: '00:15:65:AA:BB:CC', ...(variant.format ? { format: variant.format } : {}) });
    const back = codec.read(text);
    assert.equal(back.error, undefined);
    assert.deepEqual(back.unused, []);
    assert.equal(back.config.enabled, true);
    assert.deepEqual(back.config.urls, only(config, supportedIncidents(codec)));
    assert.deepEqual(back.missing, []);
    if (variant.format) assert.equal(back.format, variant.format);
  });

  test(`${name(variant)}: URLs with XML and cfg metacharacters and non-ASCII survive write and read`, { timeout: 60_000 }, () => {
    const slugs = supportedIncidents(codec);
    fc.assert(
      fc.property(
        // Values a phone field can hold: no control characters, no surrounding blanks (readers trim).
        fc.array(fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }), { minLength: slugs.length, maxLength: slugs.length }),
        (values) => {
          const urls: Record<string, string> = {};
          slugs.forEach((slug, i) => {
            // eslint-disable-next-line no-control-regex
            const v = `http://h/${values[i]}`.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029\ud800-\udfff]/g, '').trim();
            urls[slug] = v;
          });
          const config = { enabled: true, urls };
          const back = codec.read(codec.write(config, variant.format ? { format: variant.format } : {}));
          assert.deepEqual(back.unused, []);
          assert.deepEqual(back.config, config);
        },
      ),
      { numRuns: 50 },
    );
  });

  test(`${name(variant)}: incidents the vendor lacks are not written, and renderConfigFile lists them`, { timeout: 60_000 }, () => {
    const config = ingestConfig('http://10.0.0.5:8080');
    const rendered = renderConfigFile(variant.vendor, config, variant.format ? { format: variant.format } : {});
    assert.deepEqual(rendered.lacking, unsupportedIncidents(codec));
    const back = codec.read(rendered.text);
    for (const slug of rendered.lacking) assert.equal(back.config.urls[slug], undefined);
  });
}

test('vendor support matches the catalog: Yealink and Akuvox have all 34, the others fewer', { timeout: 60_000 }, () => {
  assert.equal(supportedIncidents('yealink').length, INCIDENTS.length);
  assert.equal(supportedIncidents('akuvox').length, INCIDENTS.length);
  assert.equal(supportedIncidents('fanvil').length, 27);
  assert.equal(supportedIncidents('snom').length, 20);
  assert.equal(supportedIncidents('grandstream').length, 18);
});

test('Grandstream v1 and v2 cover the same incidents, so either format carries the same config', { timeout: 60_000 }, () => {
  const gs = getVendorCodec('grandstream');
  for (const i of INCIDENTS) {
    assert.equal(gs.keyFor(i.slug, 'v1') === undefined, gs.keyFor(i.slug, 'v2') === undefined, i.slug);
  }
});

test('Akuvox and Fanvil keep the on/off switch: a disabled config reads back disabled with its URLs', { timeout: 60_000 }, () => {
  for (const vendor of ['akuvox', 'fanvil'] as const) {
    const codec = getVendorCodec(vendor);
    const config = { enabled: false, urls: { registered: 'http://h/r?mac=$mac', dnd_on: 'http://h/d' } };
    assert.deepEqual(codec.read(codec.write(config)).config, config, vendor);
  }
});

test('phones without a switch get "off" as empty URLs for every incident, and the file reads back off', { timeout: 60_000 }, () => {
  for (const vendor of ['yealink', 'snom', 'grandstream'] as const) {
    const config = { enabled: false, urls: { registered: 'http://h/r?mac=$mac' } };
    const rendered = renderConfigFile(vendor, config);
    assert.match(rendered.notes.join('\n'), /no Action URL on\/off switch/, vendor);
    assert.doesNotMatch(rendered.text, /http:\/\/h\/r/, vendor);
    const back = getVendorCodec(vendor).read(rendered.text);
    assert.deepEqual(back.config, { enabled: false, urls: {} }, vendor);
    assert.equal(back.missing.length, supportedIncidents(vendor).length, vendor);
  }
});

test('writers refuse a URL with a line break rather than write a file with a forged extra setting', { timeout: 60_000 }, () => {
  for (const variant of VARIANTS) {
    const config = { enabled: true, urls: { registered: 'http://h/r\naction_url.dnd_on = http://evil' } };
    assert.throws(() => getVendorCodec(variant.vendor).write(config, variant.format ? { format: variant.format } : {}), /line break/);
  }
});

test('renderConfigFile reports unknown incidents and URLs longer than phones accept', { timeout: 60_000 }, () => {
  const long = `http://h/${'x'.repeat(520)}`;
  const r = renderConfigFile('yealink', { enabled: true, urls: { no_such_incident: 'http://h/', registered: long } });
  assert.match(r.notes.join('\n'), /not catalog incidents, left out: no_such_incident/);
  assert.match(r.notes.join('\n'), /longer than 511 characters.*registered/);
  assert.doesNotMatch(r.text, /no_such_incident/);
});
