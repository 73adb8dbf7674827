import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHttpServer } from '../../src/http/server.ts';
import { parseResponses } from '../server/helpers/raw-client.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a client that pipelines requests but never reads its answers does not make the server buffer them all', { timeout: 60_000 }, async () => {
  const body = Buffer.alloc(64 * 1024, 'x');
  let handled = 0;
  const http = createHttpServer({
    handler: (_req, res) => {
      handled++;
      res.send(200, body);
    },
  });
  const { port } = await http.listen(0, '127.0.0.1');
  const total = 1000; // 64 MB of answers if all were made
  const socket = net.connect(port, '127.0.0.1');
  try {
    socket.pause();
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(total));
    // Wait until the server stops making answers (or made them all): at most 10 s.
    let last = -1;
    for (let i = 0; i < 100 && handled !== last && handled < total; i++) {
      last = handled;
      await sleep(i === 0 ? 200 : 300);
    }
    assert.ok(handled < total / 2, `the server made ${handled} of ${total} answers for a client that reads none`);

    // Once the client reads, every answer arrives, in order.
    let raw: Buffer = Buffer.alloc(0);
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got} answers arrived`)), 30_000);
      socket.on('data', (chunk: Buffer) => {
        raw = Buffer.concat([raw, chunk]);
        const { responses, rest } = parseResponses(raw, false);
        got += responses.length;
        raw = rest;
        if (got >= total) {
          clearTimeout(timer);
          resolve();
        }
      });
      socket.resume();
    });
    assert.equal(got, total);
    assert.equal(handled, total);
  } finally {
    socket.destroy();
    await http.close(100);
  }
});
