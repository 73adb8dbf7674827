import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestReceiver, type TestReceiver } from './helpers/receiver.ts';
import { sendRaw } from './helpers/raw-client.ts';
import { describeEachStore } from '../stores.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

interface Row {
  method: string;
  status: number;
  reason: string;
  raw: string;
  source_ip: string;
}

describeEachStore('requests the HTTP layer refuses are kept as rejected requests', { timeout: 120_000 }, (store) => {
  let r: TestReceiver;
  before(async () => {
    r = await startTestReceiver({ storeKind: store, token: 's3cret' });
  });
  after(() => r.cleanup());

  /** Sends `bytes`, expects one answer with `status`, then the newest rejected row (waiting for it to be stored). */
  async function refusedRow(bytes: string | Buffer, status: number): Promise<Row> {
    const before = (await r.api('/api/v1/rejected?limit=1')).body.rejected[0]?.id ?? 0;
    const { responses } = await sendRaw(r.port, bytes);
    assert.equal(responses.length, 1);
    assert.equal(responses[0].status, status);
    for (let i = 0; i < 300; i++) {
      const row = (await r.api('/api/v1/rejected?limit=1')).body.rejected[0];
      if (row && row.id > before) return row;
      await sleep(10);
    }
    throw new Error('no rejected row was stored');
  }

  test('a request line without HTTP version: 400, kept with its method and target', async () => {
    const row = await refusedRow('GET /actionurl/dnd_on?mac=001565aabbcc&display_remote=Ann Lee\r\n\r\n', 400);
    assert.equal(row.method, 'GET');
    assert.equal(row.status, 400);
    assert.match(row.reason, /malformed request line/);
    assert.equal(row.raw, '/actionurl/dnd_on?mac=001565aabbcc&display_remote=Ann Lee');
    assert.equal(row.source_ip, '127.0.0.1');
  });

  test('a target over the limit: 414, kept truncated', async () => {
    const row = await refusedRow(`GET /actionurl/dnd_on?mac=001565aabbcc&x=${'a'.repeat(9000)} HTTP/1.1\r\n\r\n`, 414);
    assert.equal(row.status, 414);
    assert.equal(row.method, 'GET');
    assert.ok(row.raw.startsWith('/actionurl/dnd_on?mac=001565aabbcc&x=aaa'));
    assert.ok(row.raw.length <= 1024, `kept ${row.raw.length} characters`);
  });

  test('a head over the limit: 431, kept with its target', async () => {
    const row = await refusedRow(`GET /actionurl/hold?mac=001565aabbcc HTTP/1.1\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431);
    assert.equal(row.status, 431);
    assert.equal(row.raw, '/actionurl/hold?mac=001565aabbcc');
  });

  test('a chunked body: 501, kept with its method and target, token blanked', async () => {
    const row = await refusedRow('POST /actionurl/hold?mac=001565aabbcc&token=s3cret HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501);
    assert.equal(row.status, 501);
    assert.equal(row.method, 'POST');
    assert.equal(row.raw, '/actionurl/hold?mac=001565aabbcc&token=***');
  });

  test('bytes that are not HTTP at all: 400, kept as they came', async () => {
    const row = await refusedRow(Buffer.from([0x01, 0x02, 0x03, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), 400);
    assert.equal(row.method, '');
    assert.equal(row.status, 400);
    assert.equal(row.raw, '\x01\x02\x03\x00');
  });

  test('a TLS handshake: 400 at once, kept as what it was, without its binary bytes', async () => {
    const row = await refusedRow(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), 400);
    assert.equal(row.reason, 'TLS handshake on plain HTTP port');
    assert.equal(row.raw, '');
  });

  test('counted by status in the metrics', () => {
    assert.ok(r.server.ctx.metrics.rejected.get({ reason: 'http_400' }) >= 2);
    assert.equal(r.server.ctx.metrics.rejected.get({ reason: 'http_501' }), 1);
  });
});

test('a flood of malformed requests goes through the same bounds as other refusals', { timeout: 60_000 }, async () => {
  const r = await startTestReceiver({ rejectionPolicy: { windowMs: 60_000, perSource: 3, total: 100 } });
  try {
    for (let i = 0; i < 30; i++) {
      const { responses } = await sendRaw(r.port, `GET /actionurl/x${i}?mac=001565aabbcc\r\n\r\n`);
      assert.equal(responses[0]?.status, 400);
    }
    for (let i = 0; i < 300 && r.server.ctx.metrics.rejected.get({ reason: 'http_400' }) < 30; i++) await sleep(10);
    assert.equal(r.server.ctx.metrics.rejected.get({ reason: 'http_400' }), 30);
    assert.equal(r.server.ctx.metrics.rejectedSuppressed.get({ reason: 'http_400' }), 27);
    for (let i = 0; i < 100 && (await r.api('/api/v1/rejected')).body.rejected.length < 3; i++) await sleep(10);
    assert.equal((await r.api('/api/v1/rejected')).body.rejected.length, 3);
  } finally {
    await r.cleanup();
  }
});
