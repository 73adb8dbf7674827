/** An MQTT subscriber for tests: records every message (topic, text, retained) under the given filters. */
import mqtt, { type MqttClient } from 'mqtt';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import net from 'node:net';
import { join } from 'node:path';

export interface Message {
  topic: string;
  text: string;
  retain: boolean;
}

export interface Watch {
  client: MqttClient;
  messages: Message[];
  waitFor(match: (m: Message) => boolean, ms?: number, from?: number): Promise<Message>;
  close(): Promise<void>;
}

/** The machine's broker on CI and here; a test that cannot reach it fails (it is part of the set-up). */
export const SHARED_BROKER = process.env.ACTIONURL_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

/**
 * `persistent`: a session the broker keeps (clean: false, fixed client id), so messages published while this
 * subscriber is reconnecting are kept for it, as a real consumer such as Home Assistant would set up.
 */
export async function watch(url: string, filters: string[], persistent = false): Promise<Watch> {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 200,
    connectTimeout: 5000,
    ...(persistent ? { clean: false, clientId: `watch-${process.pid}-${Date.now()}` } : {}),
  });
  const messages: Message[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, text: payload.toString(), retain: packet.retain }));
  // Subscribe again after a reconnect (the broker may be restarted by the test).
  const subscribe = () => client.subscribeAsync(filters, { qos: 1 });
  client.on('connect', () => void subscribe().catch(() => {}));
  await subscribe();
  return {
    client,
    messages,
    async waitFor(match, ms = 20_000, from = 0) {
      const end = Date.now() + ms;
      for (;;) {
        const found = messages.slice(from).find(match);
        if (found) return found;
        if (Date.now() > end) throw new Error(`no matching MQTT message among ${messages.length - from}: ${messages.slice(from).map((m) => m.topic).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => client.endAsync(true),
  };
}

/** A free TCP port on 127.0.0.1 (for a broker the test starts and stops). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts /usr/sbin/mosquitto on `port` with its persistence in `dir` (sessions survive a stop and start);
 * resolves once it accepts connections. `conf`: the configuration besides the listener (default: anonymous
 * clients allowed).
 */
export async function startMosquitto(port: number, dir: string, conf = 'allow_anonymous true\n'): Promise<ChildProcess> {
  const bin = process.env.ACTIONURL_TEST_MOSQUITTO ?? '/usr/sbin/mosquitto';
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, `listener ${port} 127.0.0.1\n${conf}persistence true\npersistence_location ${dir}/\n`);
  const child = spawn(bin, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${err}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return child;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not listen on ${port}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops the broker (SIGTERM: it saves its sessions first, as a broker being restarted does). */
export async function stopMosquitto(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/**
 * A broker of the test file's own for all its tests: started before them on a free port, stopped (and its
 * folder removed) after. `url()` is its address once started.
 */
export function useMosquitto(prefix = 'actionurl-mqtt-'): { url(): string } {
  let url = '';
  let dir = '';
  let broker: ChildProcess | undefined;
  before(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    dir = mkdtempSync(join(tmpdir(), prefix));
    broker = await startMosquitto(port, dir);
  });
  after(async () => {
    if (broker) await stopMosquitto(broker);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    url() {
      if (!url) throw new Error('the broker starts before the tests run');
      return url;
    },
  };
}
