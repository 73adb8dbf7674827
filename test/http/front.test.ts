import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { createHttpServer, type HttpServer } from '../../src/http/server.ts';
import type { HttpHandler, HttpRefusal } from '../../src/http/types.ts';
import { sendRaw } from '../server/helpers/raw-client.ts';

// Echoes what the handler saw, so tests can check the parser's view of the raw bytes.
const echo: HttpHandler = async (req, res) => {
  // A slow answer on purpose: pipelined requests behind it must still be answered in order.
  if (req.path === '/slow') await new Promise((r) => setTimeout(r, 30));
  if (req.path === '/boom') throw new Error('handler failure');
  if (req.path === '/names') {
    // Reads each header by the name a hostile client chose, the way handlers read `host` or `cookie`.
    const read = (name: string): unknown => req.headers[name];
    res.json(200, {
      constructor: read('constructor'),
      proto: read('__proto__'),
      hasOwnProperty: read('hasownproperty'),
      toString: read('tostring'),
      valueOfType: typeof read('valueof'),
      host: read('host'),
      names: Object.keys(req.headers).sort(),
    });
    return;
  }
  if (req.path === '/stream') {
    const s = res.stream(200, { 'Content-Type': 'text/event-stream' });
    s.write('data: one\n\n');
    s.end();
    return;
  }
  res.json(200, {
    method: req.method,
    target: req.rawTarget.toString('hex'),
    path: req.path,
    query: Object.fromEntries(req.query),
    headers: req.headers,
    version: req.httpVersion,
    body: req.body.toString('utf8'),
    remote: req.remoteAddress,
  });
};

let http: HttpServer;
let port: number;
const refusals: HttpRefusal[] = [];

before(async () => {
  http = createHttpServer({
    handler: echo,
    limits: { maxTargetBytes: 2048, maxHeadBytes: 4096, maxBodyBytes: 64 },
    requestTimeoutMs: 300,
    idleTimeoutMs: 2000,
    onRefused: (r) => refusals.push(r),
  });
  port = (await http.listen(0, '127.0.0.1')).port;
});
after(() => http.close(100));

const json = (body: Buffer) => JSON.parse(body.toString('utf8'));

describe('request line as phones send it', { timeout: 120_000 }, () => {
  test('raw spaces and raw UTF-8 in the target reach the handler as the exact bytes', async () => {
    const target = Buffer.from('/actionurl/incoming_call?display_remote=Jörg Müller&mac=001565aabbcc', 'utf8');
    const req = Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]);
    const { responses } = await sendRaw(port, req, { expect: 1 });
    assert.equal(responses[0].status, 200);
    const seen = json(responses[0].body);
    assert.equal(seen.target, target.toString('hex'));
    assert.equal(seen.path, '/actionurl/incoming_call');
    assert.equal(seen.query.display_remote, 'Jörg Müller');
  });

  test('Latin-1 bytes are kept as bytes, not replaced', async () => {
    const target = Buffer.concat([Buffer.from('/x?name=J'), Buffer.from([0xf6]), Buffer.from('rg Doe')]);
    const req = Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\n\r\n')]);
    const { responses } = await sendRaw(port, req, { expect: 1 });
    assert.equal(json(responses[0].body).target, target.toString('hex'));
  });

  test('a target that itself contains " HTTP/1.1" ends at the last one', async () => {
    const { responses } = await sendRaw(port, 'GET /a?x=HTTP/1.1 y HTTP/1.1\r\n\r\n', { expect: 1 });
    assert.equal(Buffer.from(json(responses[0].body).target, 'hex').toString(), '/a?x=HTTP/1.1 y');
  });

  test('HTTP/1.0 without Host is answered in HTTP/1.0 and closed', async () => {
    const { responses, closed } = await sendRaw(port, 'GET /actionurl/dnd_on?mac=1 HTTP/1.0\r\n\r\n');
    assert.equal(responses.length, 1);
    assert.equal(responses[0].version, 'HTTP/1.0');
    assert.equal(json(responses[0].body).version, 'HTTP/1.0');
    assert.equal(closed, true);
  });

  test('HTTP/1.0 with keep-alive keeps the connection for a second request', async () => {
    const one = 'GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const { responses } = await sendRaw(port, one + one.replace('/one', '/two'), { expect: 2 });
    assert.equal(responses.length, 2);
    assert.equal(responses[0].headers.connection, 'keep-alive');
  });

  test('LF-only line endings are accepted', async () => {
    const { responses } = await sendRaw(port, 'GET /lf HTTP/1.1\nX-A: 1\n\n', { expect: 1 });
    assert.equal(json(responses[0].body).headers['x-a'], '1');
  });

  test('a malformed header line is skipped, the request and its other headers are kept', async () => {
    const req = 'GET /hdr HTTP/1.1\r\nHost: h\r\nnonsense without colon\r\nBad Name: v\r\n\tfolded after it\r\nX-B: 2\r\n\r\n';
    const { responses } = await sendRaw(port, req, { expect: 1 });
    assert.equal(responses[0].status, 200);
    const seen = json(responses[0].body);
    assert.equal(seen.path, '/hdr');
    assert.deepEqual(seen.headers, { host: 'h', 'x-b': '2' });
  });

  test('headers named like Object.prototype members are read back as sent, and nothing else changes', { timeout: 5000 }, async () => {
    const req =
      'GET /names HTTP/1.1\r\nHost: h\r\nConstructor: c1\r\n__proto__: p1\r\nhasOwnProperty: o1\r\n' +
      'toString: t1\r\nConstructor: c2\r\n\r\n';
    const { responses } = await sendRaw(port, req, { expect: 1 });
    assert.equal(responses[0].status, 200);
    const seen = json(responses[0].body);
    assert.equal(seen.constructor, 'c1, c2');
    assert.equal(seen.proto, 'p1');
    assert.equal(seen.hasOwnProperty, 'o1');
    assert.equal(seen.toString, 't1');
    assert.equal(seen.valueOfType, 'undefined', 'a header nobody sent is absent, not an inherited function');
    assert.equal(seen.host, 'h');
    assert.deepEqual(seen.names, ['__proto__', 'constructor', 'hasownproperty', 'host', 'tostring']);
    // The connection and the server are still fine afterwards.
    const again = await sendRaw(port, 'GET /after HTTP/1.1\r\nHost: h\r\n\r\n', { expect: 1 });
    assert.equal(json(again.responses[0].body).path, '/after');
  });

  test('a __proto__ header cannot change how the request is framed', { timeout: 5000 }, async () => {
    // Were `__proto__` to become the headers' prototype, an inherited content-length could decide the body.
    const req = 'POST /names HTTP/1.1\r\n__proto__: content-length\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\n\r\n';
    const { responses } = await sendRaw(port, req, { expect: 2 });
    assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    assert.equal(json(responses[1].body).path, '/next');
  });

  test('absolute-form targets route by their path', async () => {
    const { responses } = await sendRaw(port, 'GET http://10.0.0.5:8080/p?q=1 HTTP/1.1\r\n\r\n', { expect: 1 });
    assert.equal(json(responses[0].body).path, '/p');
  });
});

describe('connections', { timeout: 120_000 }, () => {
  test('pipelined requests are answered in request order even when the first is slower', async () => {
    const reqs = 'GET /slow HTTP/1.1\r\n\r\nGET /fast1 HTTP/1.1\r\n\r\nGET /fast2 HTTP/1.1\r\nConnection: close\r\n\r\n';
    const { responses, closed } = await sendRaw(port, reqs);
    assert.deepEqual(responses.map((r) => json(r.body).path), ['/slow', '/fast1', '/fast2']);
    assert.equal(closed, true);
  });

  test('a request written one byte at a time is parsed', async () => {
    const req = 'GET /bytes?a=b c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /second HTTP/1.1\r\n\r\n';
    const { responses } = await sendRaw(port, req, { byteByByte: true, expect: 2 });
    assert.equal(json(responses[0].body).body, 'hello');
    assert.equal(json(responses[0].body).query.a, 'b c');
    assert.equal(json(responses[1].body).path, '/second');
  });

  test('a client that half-closes after its request still gets the answer', async () => {
    const { responses } = await sendRaw(port, 'GET /half HTTP/1.1\r\n\r\n', { endAfterWrite: true });
    assert.equal(responses.length, 1);
    assert.equal(json(responses[0].body).path, '/half');
  });

  test('a stream answer is close-delimited and ends the connection', async () => {
    const { responses, closed } = await sendRaw(port, 'GET /stream HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n');
    assert.equal(closed, true);
    assert.equal(responses.length, 1);
    assert.equal(responses[0].body.toString(), 'data: one\n\n');
  });

  test('a handler that throws gets a 500 and the connection stays usable', async () => {
    const { responses } = await sendRaw(port, 'GET /boom HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n', { expect: 2 });
    assert.equal(responses[0].status, 500);
    assert.equal(responses[1].status, 200);
  });

  test('HEAD gets headers without a body', async () => {
    const { raw } = await sendRaw(port, 'HEAD /h HTTP/1.1\r\nConnection: close\r\n\r\n');
    const text = raw.toString('latin1');
    assert.match(text, /Content-Length: [1-9]/);
    assert.ok(text.endsWith('\r\n\r\n'));
  });

  test('Expect: 100-continue gets an interim answer before the body is sent, then the final one', async () => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    socket.on('data', (c) => {
      raw += c.toString('latin1');
      if (raw === 'HTTP/1.1 100 Continue\r\n\r\n') socket.end('ok');
    });
    socket.write('POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    await new Promise((r) => socket.on('close', r));
    assert.ok(raw.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK'));
    assert.match(raw, /"body":"ok"/);
  });

  test('a client that stops mid-head gets 408 and a close', async () => {
    const { responses, closed } = await sendRaw(port, 'GET /never-finished HTTP/1.1\r\nHost:');
    assert.equal(responses[0]?.status, 408);
    assert.equal(closed, true);
    const r = refusals.find((x) => x.status === 408 && x.rawTarget.toString() === '/never-finished');
    assert.ok(r, 'the timed-out request is reported');
    assert.equal(r.method, 'GET');
    assert.equal(r.reason, 'request timeout');
  });

  test('a client that stops mid-body gets 408, reported with the head it sent', async () => {
    const { responses } = await sendRaw(port, 'POST /half-body?x=1 HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc');
    assert.equal(responses[0]?.status, 408);
    const r = refusals.find((x) => x.status === 408 && x.method === 'POST');
    assert.equal(r?.rawTarget.toString(), '/half-body?x=1');
  });
});

describe('refusals', { timeout: 120_000 }, () => {
  const cases: [string, string, number][] = [
    ['no version', 'GET /x\r\n\r\n', 400],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
    ['bad method characters', 'G(T /x HTTP/1.1\r\n\r\n', 400],
    ['Content-Length with a space before the colon', 'POST /x HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello', 400],
    ['folded line naming Transfer-Encoding first', 'POST /x HTTP/1.1\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['bad Content-Length', 'POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
    ['conflicting Content-Lengths', 'POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['body over the cap', 'POST /x HTTP/1.1\r\nContent-Length: 65\r\n\r\n', 413],
    ['chunked body', 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501],
    ['target over the limit', `GET /${'a'.repeat(3000)} HTTP/1.1\r\n\r\n`, 414],
    ['head over the limit', `GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}\r\n\r\n`, 431],
  ];
  for (const [name, bytes, status] of cases) {
    test(`${name}: ${status} and a clean close`, async () => {
      const { responses, closed } = await sendRaw(port, bytes);
      assert.equal(responses.length, 1);
      assert.equal(responses[0].status, status);
      assert.equal(responses[0].headers.connection, 'close');
      assert.equal(closed, true);
    });
  }

  test('a target over the limit is refused before the line ends', async () => {
    const { responses } = await sendRaw(port, `GET /${'a'.repeat(3000)}`);
    assert.equal(responses[0].status, 414);
  });

  test('earlier pipelined requests are answered before the refusal', async () => {
    const { responses } = await sendRaw(port, 'GET /fine HTTP/1.1\r\n\r\n\x00\x01garbage\r\n\r\n');
    assert.deepEqual(responses.map((r) => r.status), [200, 400]);
  });
});

test('random bytes never crash the server: each connection is answered or closed', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        // Near-miss HTTP: a valid prefix with random bytes after it.
        fc.tuple(fc.constantFrom('GET /', 'GET /actionurl/x?mac=', 'POST / HTTP/1.1\r\nContent-Length: 3'), fc.uint8Array({ maxLength: 200 }))
          .map(([p, rest]) => Buffer.concat([Buffer.from(p), rest, Buffer.from('\r\n\r\n')])),
      ),
      async (bytes) => {
        const { closed, responses } = await sendRaw(port, Buffer.from(bytes), { endAfterWrite: true, timeoutMs: 2000 });
        assert.equal(closed, true);
        for (const r of responses) assert.ok(r.status >= 200 && r.status < 600);
      },
    ),
    { numRuns: 60 },
  );
  const { responses } = await sendRaw(port, 'GET /still-alive HTTP/1.1\r\n\r\n', { expect: 1 });
  assert.equal(responses[0].status, 200);
});
