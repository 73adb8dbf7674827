/**
 * A broker that accepts the connection but never acknowledges a publish (a stuck or overloaded broker): the
 * delivery fails with the reason after the publish timeout and is retried, instead of waiting for ever and
 * holding the phone's later events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { MqttBridge } from '../../src/forwarding/mqtt-bridge.ts';
import type { StoredDelivery } from '../../src/store/types.ts';

test('a publish the broker never acknowledges fails with the reason, and the bridge still closes', { timeout: 20_000 }, async () => {
  const published: number[] = [];
  const sockets = new Set<net.Socket>();
  const broker = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (chunk) => {
      const type = chunk[0] >> 4;
      if (type === 1) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNECT → CONNACK, accepted
      if (type === 3) published.push(chunk.length); // PUBLISH: never acknowledged
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
  const { port } = broker.address() as net.AddressInfo;
  const bridge = new MqttBridge({
    url: `mqtt://127.0.0.1:${port}`,
    prefix: 'autest',
    discoveryPrefix: null,
    logger: pino({ level: 'silent' }),
    phones: { get: () => undefined, all: () => [] },
    phoneJson: () => ({}),
    now: Date.now,
    origin: { name: 'actionurl', sw: 'test' },
    publishTimeoutMs: 300,
  });
  try {
    const connected = new Promise<void>((r) => bridge.start((up) => up && r()));
    await connected;
    const delivery = {
      id: 1, destination: 'mqtt', type: 'phone.dnd_on', mac: '001565aaaa01', eventId: 1, createdAt: Date.now(), state: 'pending',
      attempts: 0, nextAt: Date.now(), lastError: null, lastStatus: null, lastAttemptAt: null, deliveredAt: null,
      body: JSON.stringify({ type: 'phone.dnd_on', timestamp: new Date().toISOString(), data: { event: { mac: '001565aaaa01' } } }),
    } as unknown as StoredDelivery;
    const started = performance.now();
    const attempt = await bridge.send(delivery);
    assert.equal(attempt.verdict.kind, 'retry');
    assert.match((attempt.verdict as { reason: string }).reason, /no PUBACK within 0\.3 s/);
    assert.ok(performance.now() - started >= 250, 'it waited for the acknowledgement first');
    assert.ok(published.length >= 1, 'the broker did receive the publish');
  } finally {
    const closing = bridge.close();
    await closing;
    for (const s of sockets) s.destroy();
    await new Promise((r) => broker.close(r));
  }
});
