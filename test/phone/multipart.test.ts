import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMultipart } from '../../src/phone/web/multipart.ts';

const CT = 'multipart/form-data; boundary=----b0undary';
const form = (parts: string[]) => Buffer.from(`${parts.map((p) => `------b0undary\r\n${p}\r\n`).join('')}------b0undary--\r\n`);

test('the upload form: text fields and the file with its name and exact bytes', { timeout: 10_000 }, async () => {
  const body = form([
    'Content-Disposition: form-data; name="csrf"\r\n\r\nt0k',
    'Content-Disposition: form-data; name="file"; filename="001565aabbcc.cfg"\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2 é\r\n',
    'Content-Disposition: form-data; name="vendor"\r\n\r\n',
  ]);
  const parts = await parseMultipart(body, CT);
  assert.deepEqual(parts?.map((p) => [p.name, p.filename, p.data.toString('utf8')]), [
    ['csrf', undefined, 't0k'],
    ['file', '001565aabbcc.cfg', 'line 1\r\nline 2 é\r\n'],
    ['vendor', undefined, ''],
  ]);
});

test('not a multipart form, or a cut-off one: undefined (the page answers 400)', { timeout: 10_000 }, async () => {
  assert.equal(await parseMultipart(Buffer.from('a=1'), 'application/x-www-form-urlencoded'), undefined);
  assert.equal(await parseMultipart(Buffer.from('a=1'), 'multipart/form-data'), undefined);
  const whole = form(['Content-Disposition: form-data; name="file"; filename="x.cfg"\r\n\r\nabc']);
  assert.equal(await parseMultipart(whole.subarray(0, whole.length - 30), CT), undefined);
  assert.equal(await parseMultipart(Buffer.from('garbage without boundaries'), CT), undefined);
});
