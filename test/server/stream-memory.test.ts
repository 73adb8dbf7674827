import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestReceiver } from './helpers/receiver.ts';
import { openSse } from './helpers/sse.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const MiB = 1024 * 1024;

/** A stream client that never reads: no 'data' listener, so the kernel's buffers fill and then the receiver's. */
function stuckClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.write('GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  return {
    socket,
    get closed() {
      return closed;
    },
  };
}

test('stream clients that never read hold at most --stream-memory together: the furthest behind are cut first, a reading client keeps everything', { timeout: 120_000 }, async () => {
  const cap = 2 * MiB;
  // The per-client limit out of the way: only the total may cut here.
  const r = await startTestReceiver({ streamMaxBufferedBytes: 512 * MiB, streamMemoryBytes: cap });
  const metrics = r.server.ctx.metrics;
  const reader = openSse(r.port, '/api/v1/stream');
  const stuck: ReturnType<typeof stuckClient>[] = [];
  let sent = 0;
  let mostHeld = 0;
  // Events near the largest a request line may carry (8 KiB): the value is in `raw` and `vars`, ~15 KiB each.
  const big = 'B'.repeat(7000);
  const ingest = async (n: number) => {
    for (let i = 0; i < n; i += 10) {
      const batch = Array.from({ length: Math.min(10, n - i) }, () => r.ingest(`/actionurl/incoming_call?mac=001565000042&call_id=${sent++}&display_remote=${big}`));
      for (const res of await Promise.all(batch)) assert.equal(res.status, 200);
      mostHeld = Math.max(mostHeld, metrics.streamUnsent.bytes());
    }
  };
  const waitClients = async (n: number) => {
    for (let i = 0; i < 500 && metrics.streamClients.get() !== n; i++) await sleep(10);
    assert.equal(metrics.streamClients.get(), n);
  };
  try {
    assert.equal(await reader.status, 200);
    const early = [stuckClient(r.port), stuckClient(r.port), stuckClient(r.port)];
    await waitClients(4);
    // The early ones are ~1.5 MB further behind than the late ones, whatever the kernel takes off each.
    await ingest(100);
    const late = [stuckClient(r.port), stuckClient(r.port), stuckClient(r.port)];
    stuck.push(...early, ...late);
    await waitClients(7);
    for (let i = 0; i < 1500 && metrics.streamMemoryDropped.get() < early.length; i += 20) await ingest(20);
    const dropped = metrics.streamMemoryDropped.get();
    assert.ok(dropped >= early.length, `clients cut for memory: ${dropped} after ${sent} events`);
    assert.ok(mostHeld <= cap, `unsent bytes held at most ${mostHeld}, over the cap ${cap}`);
    assert.ok(mostHeld > cap / 2, `the stuck clients did fill the receiver's buffers (${mostHeld} bytes)`);
    assert.equal(metrics.streamDropped.get(), 0, 'no client reached its own limit');
    assert.match(await metrics.registry.render(), new RegExp(`actionurl_stream_memory_dropped_total ${dropped}\\b`));

    // Which ones were cut: once they read, a cut one gets what the kernel still had, then the end.
    for (const c of stuck) c.socket.resume();
    for (let i = 0; i < 500 && early.some((c) => !c.closed); i++) await sleep(10);
    assert.deepEqual(early.map((c) => c.closed), [true, true, true], 'the clients furthest behind were cut');
    await sleep(300);
    assert.equal(late.filter((c) => c.closed).length, dropped - early.length, 'no client cut beyond those counted');

    // The client that reads got every event, in order, and is still connected.
    const msgs = await reader.waitFor(sent, 20_000);
    assert.equal(msgs.length, sent);
    assert.deepEqual(msgs.map((m) => Number(m.id)), msgs.map((_, i) => i + 1));
    await ingest(1);
    assert.equal((await reader.waitFor(sent, 5000)).length, sent);
  } finally {
    reader.close();
    for (const c of stuck) c.socket.destroy();
    await r.cleanup();
  }
});
