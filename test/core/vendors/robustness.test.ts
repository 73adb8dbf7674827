import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getVendorCodec, VENDOR_IDS } from '../../../src/core/vendors/index.ts';

// Config files arrive from users and from phones' own exports; a reader must answer, never crash.
const fragments = fc.constantFrom(
  '<', '>', '</', '/>', '<!--', '-->', '<![CDATA[', ']]>', '<?xml', '?>', '&', '&amp;', '&#x', '&#99999999;', '"', '\'',
  '=', ':', '\r', '\n', '\r\n', '\uFEFF', '#', ';', '//', '<settings>', '<phone-settings>', '<gs_provision>',
  '<config version="2">', '<item name="ons.actionUrl.hold">', '<P8310>', '<<VOIP CONFIG FILE>>', '<CTI CONFIG MODULE>',
  '<<END OF FILE>>', 'Reg On Url :', 'Enabled Action Url :', 'action_url.', 'registered', ' = ', 'http://h/?a=$mac',
);
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(fc.oneof(fragments, fc.string({ maxLength: 8 })), { maxLength: 60 }).map((parts) => parts.join('')),
);

for (const vendor of VENDOR_IDS) {
  test(`${vendor} reader never throws and always returns a well-formed result`, { timeout: 60_000 }, () => {
    const codec = getVendorCodec(vendor);
    fc.assert(
      fc.property(hostile, (text) => {
        const r = codec.read(text);
        assert.equal(typeof r.config.enabled, 'boolean');
        for (const [slug, url] of Object.entries(r.config.urls)) {
          assert.notEqual(codec.keyFor(slug), undefined);
          assert.doesNotMatch(url, /[\r\n]/);
        }
        for (const u of r.unused) assert.ok(u.line >= 1 && u.reason.length > 0);
        if (r.error) assert.deepEqual(r.config.urls, {});
      }),
      { numRuns: 400 },
    );
  });
}

