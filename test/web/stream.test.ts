/**
 * The live stream across a dropped connection, in a real browser: the dashboard reaches the receiver through
 * a proxy the test can cut. Events sent while the dashboard is cut off must appear exactly once when it is
 * back, whether the browser reconnects by itself (Last-Event-ID) or gave up and the page starts over.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, it } from 'node:test';
import type { RunningServer } from '../../src/start.ts';
import { boardRow, openBrowser, startReceiver, TestPhone, type Browser } from './support.ts';
import { describeEachStore } from '../stores.ts';

declare const document: any;

/** A TCP proxy to the receiver that can drop every connection, refuse new ones, or answer them with 503. */
class CuttableProxy {
  private server = net.createServer((client) => this.accept(client));
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  mode: 'pass' | 'fail' = 'pass';

  constructor(private readonly targetPort: number) {}

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => {});
    if (this.mode === 'fail') {
      client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nunavailable\n');
      return;
    }
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  listen(port = this.port): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Drops every open connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Drops every open connection but keeps accepting (answering according to `mode`). */
  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Ids of the event rows shown, top to bottom. */
async function shownIds(page: import('playwright-core').Page): Promise<number[]> {
  return page.evaluate(() => [...document.querySelectorAll('table.events tbody tr')].map((r: any) => Number(r.dataset.id)));
}

async function waitForRows(page: import('playwright-core').Page, n: number): Promise<void> {
  await page.waitForFunction((count) => document.querySelectorAll('table.events tbody tr').length >= count, n);
}

describeEachStore('live stream across a dropped connection', { timeout: 180_000 }, (store) => {
  let server: RunningServer;
  let proxy: CuttableProxy;
  let browser: Browser;

  before(async () => {
    server = await startReceiver({ storeKind: store });
    proxy = new CuttableProxy(server.port);
    await proxy.listen();
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.close();
  });

  it('resumes with Last-Event-ID after a drop: nothing lost, nothing twice', async () => {
    const phone = new TestPhone(server.url, '001565000e01');
    await phone.register();
    const events = await browser.newPage();
    const board = await browser.newPage();
    await events.goto(`http://127.0.0.1:${proxy.port}/#/events?mac=001565000e01`);
    await board.goto(`http://127.0.0.1:${proxy.port}/#/board`);
    await waitForRows(events, 1);
    await events.locator('#stream-status[data-status="live"]').waitFor();
    await board.locator('#stream-status[data-status="live"]').waitFor();

    await phone.send('dnd_on');
    await phone.send('dnd_off');
    await waitForRows(events, 3);
    await boardRow(board, phone.mac, 'idle').waitFor();

    await proxy.cut();
    await events.locator('#stream-status[data-status="reconnecting"]').waitFor();
    // While the dashboard is cut off, the phone takes a call.
    const call = { call_id: '31', remote: 'sip:7001@pbx.example.com', display_remote: 'While Away' };
    await phone.send('incoming_call', call);
    await phone.send('call_established', call);
    await phone.send('mute', call);
    await proxy.listen();

    await waitForRows(events, 6);
    await events.locator('#stream-status[data-status="live"]').waitFor();
    const ids = await shownIds(events);
    assert.equal(ids.length, 6, `rows: ${ids.join(',')}`);
    assert.equal(new Set(ids).size, 6);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    const incidents = await events.evaluate(() => [...document.querySelectorAll('table.events tbody tr')].map((r: any) => r.dataset.incident));
    assert.deepEqual(incidents, ['mute', 'call_established', 'incoming_call', 'dnd_off', 'dnd_on', 'registered']);

    // The board caught up too: replayed events carry no phone state, so it fetched the phone.
    const row = boardRow(board, phone.mac, 'talking');
    await row.waitFor();
    await row.locator('.flag', { hasText: 'Muted' }).waitFor();
    assert.deepEqual(browser.problems, []);
    await events.close();
    await board.close();
  });

  it('starts over from the last event when the browser gives up on the stream', async () => {
    const phone = new TestPhone(server.url, '001565000e02');
    await phone.register();
    const events = await browser.newPage();
    await events.goto(`http://127.0.0.1:${proxy.port}/#/events?mac=001565000e02`);
    await waitForRows(events, 1);
    await events.locator('#stream-status[data-status="live"]').waitFor();

    // The stream's reconnect is answered with an error, not a stream: EventSource stops for good.
    proxy.mode = 'fail';
    proxy.drop();
    await events.locator('#stream-status[data-status="offline"]').waitFor();
    await phone.send('dnd_on');
    await phone.send('always_fwd_on', { active_url: '201@pbx.example.com' });
    proxy.mode = 'pass';

    await events.locator('#stream-status[data-status="live"]').waitFor();
    await waitForRows(events, 3);
    const incidents = await events.evaluate(() => [...document.querySelectorAll('table.events tbody tr')].map((r: any) => r.dataset.incident));
    assert.deepEqual(incidents, ['always_fwd_on', 'dnd_on', 'registered']);
    // Later events still arrive live.
    await phone.send('dnd_off');
    await waitForRows(events, 4);
    assert.equal(new Set(await shownIds(events)).size, 4);
    // The browser logs the 503s this test made; nothing else.
    assert.deepEqual(browser.problems.filter((p) => !/status of 503/.test(p)), []);
    await events.close();
  });
});
