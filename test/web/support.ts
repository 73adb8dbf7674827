/**
 * What the dashboard's browser tests share: a real receiver on a free port, headless Chromium with a fresh
 * profile, and phones that send Action URL requests the way firmware does (raw bytes on a socket, values not
 * percent-encoded).
 */
import net from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type RunningServer, type ServerOptions } from '../../src/start.ts';
import { launchChromium } from '../chromium.ts';
import { dropSchemas, pgUrl, testSchema, type StoreKind } from '../store/pg-optional.ts';

export { CHROMIUM } from '../chromium.ts';

export interface ReceiverOptions extends ServerOptions {
  /** The store under the dashboard: SQLite in memory (default), or a fresh schema of the test PostgreSQL. */
  storeKind?: StoreKind;
}

/**
 * A receiver on 127.0.0.1 and a free port, on an in-memory SQLite store or on a PostgreSQL schema of its own
 * (dropped again by `close`), so that a page test run under describeEachStore sees what each store serves.
 */
export async function startReceiver(options: ReceiverOptions = {}): Promise<RunningServer> {
  const { storeKind = 'sqlite', ...serverOptions } = options;
  const schema = storeKind === 'postgres' ? testSchema('au_web') : undefined;
  const server = await startServer({ db: schema ? pgUrl(schema) : ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent', ...serverOptions });
  if (!schema) return server;
  return Object.assign(Object.create(server) as RunningServer, {
    async close() {
      await server.close();
      await dropSchemas([schema]);
    },
  });
}

export interface Browser {
  context: BrowserContext;
  /** A new tab; page errors and console errors (CSP violations among them) are collected in `problems`. */
  newPage(): Promise<Page>;
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const { context, close } = await launchChromium({ acceptDownloads: true, viewport });
  const problems: string[] = [];
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        // A dropped stream is logged by the browser itself; everything else is ours.
        if (msg.type() === 'error' && !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|net::ERR_|status of 401/.test(msg.text())) {
          problems.push(`console error: ${msg.text()}`);
        }
      });
      page.on('dialog', (dialog) => {
        problems.push(`dialog opened: ${dialog.message()}`);
        void dialog.dismiss();
      });
      return page;
    },
    close,
  };
}

/** One GET with the target as raw bytes, like phone firmware; resolves with the status and body. */
export function rawGet(baseUrl: string, target: string | Buffer): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      socket.write(Buffer.concat([
        Buffer.from('GET ', 'latin1'),
        Buffer.isBuffer(target) ? target : Buffer.from(target, 'utf8'),
        Buffer.from(` HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`, 'latin1'),
      ]));
    });
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 80))}`));
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** A phone that sends incidents to a receiver, filling the device variables every incident carries. */
export class TestPhone {
  constructor(
    readonly baseUrl: string,
    readonly mac: string,
    readonly device: Record<string, string> = {},
    readonly token?: string,
  ) {}

  /** Sends one incident; values go on the wire as raw text. Rejects unless the receiver answered 200. */
  async send(incident: string, vars: Record<string, string> = {}): Promise<void> {
    const all: Record<string, string> = { mac: this.mac, ip: '10.1.2.3', model: 'SIP-T46U', firmware: '108.86.0.20', ...this.device, ...vars };
    if (this.token) all.token = this.token;
    const query = Object.entries(all).map(([k, v]) => `${k}=${v}`).join('&');
    const res = await rawGet(this.baseUrl, `/actionurl/${incident}?${query}`);
    if (res.status !== 200) throw new Error(`${incident} for ${this.mac}: ${res.status} ${res.body}`);
  }

  /** The account incidents and the flow of an incoming call, up to the conversation. */
  async register(account = '201@pbx.example.com'): Promise<void> {
    const [user, host] = account.split('@');
    await this.send('registered', { active_url: account, active_user: user, active_host: host });
  }
}

/** The board row of a phone (rendered only while in view). */
export function boardRow(page: Page, mac: string, presence?: string) {
  return page.locator(`.board .vlist-rows .row[data-mac="${mac}"]${presence ? `[data-presence="${presence}"]` : ''}`);
}

/** Phones shown on the board right now, in order. */
export async function boardMacs(page: Page): Promise<string[]> {
  const rows = page.locator('.board .vlist-rows .row');
  const out: { mac: string; index: number }[] = [];
  for (const row of await rows.all()) {
    out.push({ mac: (await row.getAttribute('data-mac')) ?? '', index: Number(await row.getAttribute('aria-rowindex')) });
  }
  return out.sort((a, b) => a.index - b.index).map((r) => r.mac);
}
