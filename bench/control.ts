/**
 * Remote control: how long from a command sent to the receiver until the phone's own Action URL confirmed
 * it (p50/p99), and how many commands per second one receiver carries across a fleet of phones.
 *
 * The receiver runs in a child process (bench/control-receiver.ts, SQLite file, fsync per commit). This
 * process holds the virtual phones, of all five vendors in turn: each with its call engine, its Action URL
 * pointing at the receiver, and its vendor's control endpoint, all served by one HTTP server under
 * /p/<mac>/ (a fleet of control endpoints in one process). Every command toggles a phone's DND, so each is
 * a real state change with its own confirming incident (dnd_on / dnd_off).
 *
 *   npm run bench -- control                      1,000 phones, 300 one-at-a-time commands, 10 s at 100 in flight
 *   PHONES=200 SEQUENTIAL=100 SECONDS=5 CONCURRENCY=50 npm run bench -- control
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ingestConfig } from '../src/core/ingest-url.ts';
import { VENDOR_IDS } from '../src/core/vendors/index.ts';
import { RemoteControl } from '../src/phone/control/remote.ts';
import { Phone } from '../src/phone/phone.ts';
import { Transport } from '../src/phone/sender/index.ts';
import { macForIndex, ouiFor } from '../src/phone/settings/identity.ts';
import { Auth } from '../src/phone/web/auth.ts';

const PHONES = Number(process.env.PHONES ?? 1000);
const SEQUENTIAL = Number(process.env.SEQUENTIAL ?? 300);
const SECONDS = Number(process.env.SECONDS ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

interface Outcome {
  status: string;
  reason?: string;
  ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startReceiver(): Promise<{ base: string; cpuMs(): Promise<number>; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./control-receiver.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    base: `http://127.0.0.1:${port}`,
    cpuMs: () => new Promise((resolve) => {
      child.once('message', (m: { cpuMs: number }) => resolve(m.cpuMs));
      child.send('cpu');
    }),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.send('exit');
    }),
  };
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  return res.json();
}

const receiver = await startReceiver();
const transport = new Transport({ keepAlive: true, maxSocketsPerOrigin: 64 });
const phones: { phone: Phone; control: RemoteControl }[] = [];
const byMac = new Map<string, RemoteControl>();
for (let i = 0; i < PHONES; i++) {
  const vendor = VENDOR_IDS[i % VENDOR_IDS.length];
  const phone = new Phone({ vendor, mac: macForIndex(i, 0, ouiFor(vendor)), actionUrl: ingestConfig(receiver.base), transport });
  const control = new RemoteControl(phone, new Auth(), vendor, { allow: '127.0.0.1' });
  phones.push({ phone, control });
  byMac.set(phone.mac, control);
}

// One server for every phone's control endpoint: /p/<mac>/<the vendor's path>.
const endpoints = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = /^\/p\/([0-9a-f]{12})(\/.*)$/.exec(url.pathname);
  const control = m ? byMac.get(m[1]) : undefined;
  if (!m || !control) {
    res.writeHead(404).end();
    return;
  }
  const a = control.handle({ address: '127.0.0.1', path: m[2], params: url.searchParams, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
  res.writeHead(a.status, { 'Content-Type': a.contentType, ...a.headers }).end(a.body);
});
endpoints.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => endpoints.listen(0, '127.0.0.1', () => resolve()));
const endpointBase = `http://127.0.0.1:${(endpoints.address() as AddressInfo).port}`;

const t0 = performance.now();
for (const { phone } of phones) {
  phone.act({ do: 'boot' });
  phone.act({ do: 'register' });
}
await Promise.all(phones.map(({ phone }) => phone.drained()));
// The address each phone is controlled at; vendor (from the model) and credentials (fleet default) are the receiver's own.
for (let i = 0; i < phones.length; i += 50) {
  await Promise.all(phones.slice(i, i + 50).map(({ phone }) => fetch(`${receiver.base}/api/v1/phones/${phone.mac}/control`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `${endpointBase}/p/${phone.mac}` }),
  }).then((r) => r.arrayBuffer())));
}
console.log(`${PHONES} phones (${VENDOR_IDS.join(', ')} in turn) booted, registered and set up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** One command to one phone: DND to the opposite of what the phone has; resolves when the receiver says it is final. */
async function toggle(phone: Phone): Promise<Outcome> {
  const command = phone.state.dnd ? 'dnd_off' : 'dnd_on';
  const start = performance.now();
  const sent = await json(`${receiver.base}/api/v1/phones/${phone.mac}/commands`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command }),
  });
  if (!sent.id) return { status: 'refused', reason: sent.error, ms: performance.now() - start };
  const done = await json(`${receiver.base}/api/v1/commands/${sent.id}?wait=15`);
  return { status: done.status, reason: done.reason ?? undefined, ms: performance.now() - start };
}

/** CPU time (ms) of the receiver and of this process (the phones and the client) over a run. */
async function cpuNow(): Promise<{ receiver: number; phones: number }> {
  const u = process.cpuUsage();
  return { receiver: await receiver.cpuMs(), phones: (u.user + u.system) / 1000 };
}

function cpuLine(before: { receiver: number; phones: number }, after: { receiver: number; phones: number }, commands: number, wallS: number): string {
  const r = after.receiver - before.receiver;
  const p = after.phones - before.phones;
  return `  CPU: receiver ${(r / commands).toFixed(1)} ms per command (${((r / 1000 / wallS) * 100).toFixed(0)}% of a core), `
    + `phones + client ${(p / commands).toFixed(1)} ms per command (${((p / 1000 / wallS) * 100).toFixed(0)}% of a core)`;
}

function report(title: string, outcomes: Outcome[], seconds?: number): void {
  const ok = outcomes.filter((o) => o.status === 'confirmed');
  const ms = ok.map((o) => o.ms).sort((a, b) => a - b);
  const failed = new Map<string, number>();
  for (const o of outcomes) if (o.status !== 'confirmed') failed.set(`${o.status}: ${o.reason}`, (failed.get(`${o.status}: ${o.reason}`) ?? 0) + 1);
  console.log(`${title}: ${outcomes.length} commands, ${ok.length} confirmed${seconds ? ` = ${(ok.length / seconds).toFixed(0)} confirmed commands/s` : ''}`);
  console.log(`  command -> confirmed: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${ms.at(-1)?.toFixed(1)} ms`);
  for (const [reason, n] of failed) console.log(`  not confirmed ${n}x: ${reason}`);
}

// 1. One command at a time: the latency a user clicking a button sees.
const sequential: Outcome[] = [];
const cpuSeq = await cpuNow();
const tSeq = performance.now();
for (let i = 0; i < SEQUENTIAL; i++) sequential.push(await toggle(phones[(i * 7) % PHONES].phone));
report(`one at a time`, sequential);
console.log(cpuLine(cpuSeq, await cpuNow(), sequential.length, (performance.now() - tSeq) / 1000));

// 2. Many at once across the fleet: each worker owns its own phones, one command in flight per phone.
const loaded: Outcome[] = [];
const until = performance.now() + SECONDS * 1000;
const cpuLoad = await cpuNow();
const tLoad = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async (_v, w) => {
  const mine = phones.filter((_p, i) => i % CONCURRENCY === w);
  for (let k = 0; performance.now() < until; k++) loaded.push(await toggle(mine[k % mine.length].phone));
}));
const loadS = (performance.now() - tLoad) / 1000;
report(`${CONCURRENCY} in flight across ${PHONES} phones for ${SECONDS} s`, loaded, loadS);
console.log(cpuLine(cpuLoad, await cpuNow(), loaded.length, loadS));
console.log(`  machine load average at the end: ${(await import('node:os')).loadavg()[0].toFixed(1)} (cores: ${(await import('node:os')).availableParallelism()})`);

endpoints.close();
endpoints.closeAllConnections();
await Promise.all(phones.map(({ phone }) => phone.close()));
transport.close();
await receiver.stop();
