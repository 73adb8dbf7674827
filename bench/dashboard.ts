/**
 * Dashboard latency: how long after a phone sends an event does the open board show it?
 *
 * A receiver runs in its own process (SQLite file, as `actionurl serve` does); N phones are seeded through
 * the real ingest path; the board is opened in headless Chromium. Then, one at a time, a random idle phone
 * gets an `incoming_call`, with optional background traffic from other phones meanwhile. In the page, a
 * MutationObserver stamps the moment the phone's row shows "ringing" (Date.now(); browser and bench run on
 * the same machine, so they share the clock). Printed: the board's load time and p50/p95/p99/max of
 *   send → visible   from the request leaving the "phone" to the row changing (what a user sees), and
 *   ack → visible    from the receiver's 200 (the event is committed) to the row changing.
 *
 * npm run bench -- dashboard [--phones 10000] [--samples 200] [--background 200] [--gap 50] [--db memory]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

// Functions passed to page.evaluate run in the browser, where these exist.
declare const window: any;
declare const document: any;

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const PHONES = Number(option('phones', '10000'));
const SAMPLES = Number(option('samples', '200'));
/** Background events per second from other phones while sampling (0: none). */
const BACKGROUND = Number(option('background', '200'));
/** Pause between samples, ms. */
const GAP = Number(option('gap', '50'));
const DB = option('db', 'file');

const macOf = (i: number) => (0x001565100000 + i).toString(16).padStart(12, '0');

/** A keep-alive connection sending one request at a time, like a phone's HTTP client but reused. */
class Conn {
  private readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.ready = new Promise((ok, fail) => {
      this.socket.once('connect', () => ok());
      this.socket.once('error', fail);
    });
    this.socket.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.parse();
    });
    this.socket.on('error', () => {});
  }

  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buf.length < end + 4 + length) return;
    this.buf = this.buf.subarray(end + 4 + length);
    const status = Number(head.slice(9, 12));
    const done = this.waiting;
    this.waiting = undefined;
    done?.(status);
  }

  get(target: string): Promise<number> {
    return new Promise((ok) => {
      this.waiting = ok;
      this.socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Yealink SIP-T46U\r\n\r\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function target(incident: string, i: number, extra = ''): string {
  const user = 1000 + i;
  return `/actionurl/${incident}?mac=${macOf(i)}&ip=10.9.${(i >> 8) & 255}.${i & 255}&model=SIP-T46U&firmware=108.86.0.20` +
    `&active_url=${user}@pbx.example.com&active_user=${user}&active_host=pbx.example.com${extra}`;
}

async function startReceiver(dbPath: string): Promise<{ url: string; child: ChildProcess }> {
  const code = `
    const { startServer } = await import(${JSON.stringify(join(ROOT, 'src/start.ts'))});
    const s = await startServer({ db: ${JSON.stringify(dbPath)}, port: 0, host: '127.0.0.1', logLevel: 'warn' });
    process.stdout.write('URL ' + s.url + '\\n');
    process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /URL (\S+)\n/.exec(out);
      if (m) ok(m[1]);
    });
    child.once('exit', (codeNo) => fail(new Error(`receiver exited (${codeNo})`)));
  });
  return { url, child };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summary(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const f = (v: number) => `${v.toFixed(0).padStart(4)} ms`;
  return `${label.padEnd(18)} p50 ${f(percentile(s, 50))}   p95 ${f(percentile(s, 95))}   p99 ${f(percentile(s, 99))}   max ${f(s[s.length - 1])}`;
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'actionurl-bench-dashboard-'));
  const { url, child } = await startReceiver(DB === 'memory' ? ':memory:' : join(tmp, 'bench.sqlite'));
  const port = Number(new URL(url).port);
  const conns: Conn[] = [];
  const browser = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    // Seed: every phone registers, through the real ingest path.
    for (let i = 0; i < 64; i++) conns.push(new Conn(port));
    await Promise.all(conns.map((c) => c.ready));
    let next = 0;
    const seedStart = performance.now();
    await Promise.all(conns.map(async (c) => {
      for (let i = next++; i < PHONES; i = next++) {
        const status = await c.get(target('registered', i));
        if (status !== 200) throw new Error(`seeding phone ${i}: ${status}`);
      }
    }));
    const seedSeconds = (performance.now() - seedStart) / 1000;
    console.log(`seeded ${PHONES} phones through ingest in ${seedSeconds.toFixed(1)} s (${(PHONES / seedSeconds).toFixed(0)} events/s)`);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const loadStart = performance.now();
    await page.goto(`${url}/#/board`);
    await page.waitForFunction((n) => document.querySelector('.count')?.textContent === `${n} phones`, PHONES, { timeout: 120_000 });
    await page.locator('#stream-status[data-status="live"]').waitFor();
    console.log(`board shows ${PHONES} phones ${(performance.now() - loadStart).toFixed(0)} ms after opening`);

    // As a string: the bench's compiler would wrap named functions in helpers the page does not have.
    await page.evaluate(`(() => {
      window.seen = [];
      const layer = document.querySelector('.board .vlist-rows');
      const record = (el, t) => {
        if (el && el.classList && el.classList.contains('row')) window.seen.push([el.dataset.mac, el.dataset.presence, t]);
      };
      // A row shows a phone's new state when its presence changes, or when a pooled row is refilled with it.
      new MutationObserver((records) => {
        const t = Date.now();
        for (const r of records) {
          if (r.type === 'attributes') record(r.target, t);
          else for (const n of r.addedNodes) record(n, t);
        }
      }).observe(layer, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-presence', 'data-mac'] });
    })()`);

    // Background traffic: other phones re-register (the board re-renders them; their order does not change).
    let background = true;
    let backgroundSent = 0;
    const backgroundConns = conns.slice(1, 17);
    const backgroundLoop = BACKGROUND > 0 ? Promise.all(backgroundConns.map(async (c, k) => {
      const perConn = BACKGROUND / backgroundConns.length;
      let due = performance.now();
      while (background) {
        due += 1000 / perConn;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await c.get(target('registered', (k * 7919 + backgroundSent++ * 104729) % PHONES));
      }
    })) : Promise.resolve([]);

    const sender = conns[0];
    const sendToVisible: number[] = [];
    const ackToVisible: number[] = [];
    const used = new Set<number>();
    let missing = 0;
    for (let s = 0; s < SAMPLES; s++) {
      let i = Math.floor(Math.random() * PHONES);
      while (used.has(i)) i = (i + 1) % PHONES;
      used.add(i);
      const mac = macOf(i);
      const extra = `&call_id=${s + 1}&remote=sip:${5000 + s}@pbx.example.com&display_remote=Caller ${s}`;
      const sentAt = Date.now();
      const status = await sender.get(target('incoming_call', i, extra));
      const ackAt = Date.now();
      if (status !== 200) throw new Error(`incoming_call: ${status}`);
      let shownAt: number | undefined;
      try {
        shownAt = await page.waitForFunction(([m, after]) => {
          const hit = window.seen.find((r: any[]) => r[0] === m && r[1] === 'ringing' && r[2] >= after);
          return hit ? hit[2] : false;
        }, [mac, sentAt] as const, { timeout: 10_000, polling: 20 }).then((h) => h.jsonValue() as Promise<number>);
      } catch {
        missing++;
      }
      if (shownAt !== undefined) {
        sendToVisible.push(shownAt - sentAt);
        ackToVisible.push(shownAt - ackAt);
      }
      // The phone stops ringing again, so the ringing group at the top stays small.
      await sender.get(target('missed_call', i, extra));
      await page.evaluate(() => {
        window.seen.length = 0;
      });
      await new Promise((r) => setTimeout(r, GAP));
    }
    background = false;
    await backgroundLoop;

    console.log(`${SAMPLES} events on a board of ${PHONES} phones` +
      (BACKGROUND > 0 ? `, with ${BACKGROUND} background events/s (${backgroundSent} sent)` : ', no background traffic') +
      `, store: ${DB === 'memory' ? 'SQLite in memory' : 'SQLite file'}`);
    console.log(summary('send → visible', sendToVisible));
    console.log(summary('ack → visible', ackToVisible));
    if (missing) console.log(`not shown within 10 s: ${missing}`);
    if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
    const p95 = percentile([...sendToVisible].sort((a, b) => a - b), 95);
    console.log(`target p95 < 100 ms: ${p95 < 100 ? 'met' : 'NOT met'} (${p95.toFixed(0)} ms)`);
  } finally {
    for (const c of conns) c.close();
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
