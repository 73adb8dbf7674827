/**
 * Running a fleet: the simulation (sim.ts) on a real clock, one timer for all phones, and the requests
 * sent through one keep-alive transport. Each phone still sends strictly one request at a time, in firing
 * order; across phones at most `concurrency` requests are in flight.
 */
import { ingestConfig, normalizeServerUrl } from '../../core/ingest-url.ts';
import { expand, type ExpandMode } from '../../core/templates.ts';
import type { FiredIncident } from '../engine/index.ts';
import { splitUrl, Transport, type RequestTarget } from '../sender/index.ts';
import { FleetSim } from './sim.ts';
import { bump, LatencySamples, sortedCounts } from './stats.ts';

export interface FleetOptions {
  /** The receiver's base URL: every incident of every phone goes to its ingest URL. */
  target: string;
  token?: string;
  phones: number;
  durationSec: number;
  callsPerHour?: number;
  seed?: string;
  /** Requests in flight across the fleet. */
  concurrency?: number;
  /** Seconds over which the phones boot (default: a tenth of the run, at most 10 s). */
  rampSec?: number;
  talkSec?: number;
  mode?: ExpandMode;
  timeoutMs?: number;
  ca?: string | Buffer;
  insecure?: boolean;
  macBase?: number;
  /** Requests waiting per phone beyond which new ones are dropped (the receiver cannot keep up). */
  maxQueuePerPhone?: number;
  /** Called about once a second while running. */
  onProgress?: (p: FleetProgress) => void;
  /** Called for every request once it is answered or has failed. */
  onRequest?: (r: FleetRequest) => void;
  signal?: AbortSignal;
}

export interface FleetRequest {
  mac: string;
  incident: string;
  url: string;
  status: number | null;
  error?: string;
  latencyMs: number;
}

export interface FleetProgress {
  elapsedSec: number;
  phonesUp: number;
  phones: number;
  sent: number;
  failed: number;
  /** Requests per second over the last interval. */
  rate: number;
  queued: number;
}

export interface FleetSummary {
  seed: string;
  phones: number;
  phonesUp: number;
  durationSec: number;
  elapsedSec: number;
  callsPerHour: number;
  requests: { sent: number; ok: number; failed: number; dropped: number; perSecond: number };
  incidents: Record<string, number>;
  failures: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Calls still up when the run ended (or was stopped), hung up so the receiver does not keep them open. */
  callsWoundDown: number;
}

interface Item {
  slug: string;
  url: string;
  target: RequestTarget;
}

export const DEFAULT_CALLS_PER_HOUR = 12;

export async function runFleet(opts: FleetOptions): Promise<FleetSummary> {
  const base = normalizeServerUrl(opts.target);
  const config = ingestConfig(base, opts.token ? { token: opts.token } : {});
  const seed = opts.seed ?? Math.floor(Math.random() * 1e9).toString(36);
  const callsPerHour = opts.callsPerHour ?? DEFAULT_CALLS_PER_HOUR;
  const durationMs = opts.durationSec * 1000;
  const concurrency = Math.max(1, opts.concurrency ?? 256);
  const maxQueue = opts.maxQueuePerPhone ?? 1000;
  const mode = opts.mode ?? 'phone';
  const sim = new FleetSim({
    phones: opts.phones, callsPerHour, seed,
    rampMs: (opts.rampSec ?? Math.min(10, opts.durationSec / 10)) * 1000,
    ...(opts.talkSec !== undefined ? { talkMs: opts.talkSec * 1000 } : {}),
    ...(opts.macBase !== undefined ? { macBase: opts.macBase } : {}),
  });
  const transport = new Transport({
    keepAlive: true, maxSocketsPerOrigin: concurrency, timeoutMs: opts.timeoutMs ?? 5000,
    ...(opts.ca ? { ca: opts.ca } : {}), insecure: Boolean(opts.insecure), userAgent: 'actionurl-fleet',
  });

  const queues: Item[][] = Array.from({ length: opts.phones }, () => []);
  const sending = new Uint8Array(opts.phones);
  const ready: number[] = [];
  let readyHead = 0;
  let inFlight = 0;
  let queued = 0;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let dropped = 0;
  const incidents: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const latency = new LatencySamples();
  let idleWaiter: (() => void) | null = null;

  const pump = () => {
    while (inFlight < concurrency && readyHead < ready.length) void sendNext(ready[readyHead++]);
    if (readyHead > 4096 && readyHead * 2 > ready.length) {
      ready.splice(0, readyHead);
      readyHead = 0;
    }
    if (inFlight === 0 && queued === 0) idleWaiter?.();
  };

  const sendNext = async (phone: number) => {
    const item = queues[phone].shift()!;
    queued--;
    inFlight++;
    const o = await transport.send(item.target);
    inFlight--;
    sent++;
    bump(incidents, item.slug);
    latency.add(o.latencyMs);
    if (o.status !== null && o.status >= 200 && o.status < 300) ok++;
    else {
      failed++;
      bump(failures, o.error ?? `http_${o.status}`);
    }
    opts.onRequest?.({
      mac: sim.phones[phone].identity.mac, incident: item.slug, url: item.url, status: o.status,
      ...(o.error ? { error: o.error } : {}), latencyMs: o.latencyMs,
    });
    if (queues[phone].length > 0) ready.push(phone);
    else sending[phone] = 0;
    pump();
  };

  const emit = (phone: number, fired: readonly FiredIncident[]) => {
    for (const inc of fired) {
      const template = config.urls[inc.slug];
      if (!template) continue;
      if (queues[phone].length >= maxQueue) {
        dropped++;
        bump(failures, 'queue_full');
        continue;
      }
      const url = expand(template, inc.vars, mode);
      const target = splitUrl(url);
      if ('error' in target) {
        bump(failures, 'bad_url');
        continue;
      }
      queues[phone].push({ slug: inc.slug, url, target });
      queued++;
      if (!sending[phone]) {
        sending[phone] = 1;
        ready.push(phone);
      }
    }
  };

  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let lastSent = 0;
  let lastAt = 0;
  const progress = setInterval(() => {
    const now = elapsed();
    opts.onProgress?.({
      elapsedSec: now / 1000,
      phonesUp: sim.phones.reduce((n, p) => n + (p.state.booted ? 1 : 0), 0),
      phones: opts.phones, sent, failed, queued,
      rate: ((sent - lastSent) * 1000) / Math.max(1, now - lastAt),
    });
    lastSent = sent;
    lastAt = now;
  }, 1000);

  // One timer for the whole fleet: sleep until the agenda's next event, play what is due, repeat.
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const finish = () => {
      if (timer) clearTimeout(timer);
      resolve();
    };
    opts.signal?.addEventListener('abort', finish, { once: true });
    const tick = () => {
      const now = Math.min(elapsed(), durationMs);
      sim.runUntil(now, emit);
      pump();
      if (now >= durationMs || opts.signal?.aborted) return finish();
      const next = sim.nextAt();
      const wait = Math.min(next === null ? Infinity : next, durationMs) - elapsed();
      timer = setTimeout(tick, Math.max(0, wait));
    };
    tick();
  });

  if (opts.signal?.aborted) {
    // Stopped by the user: what has not gone out yet is dropped, not sent.
    for (const q of queues) {
      dropped += q.length;
      queued -= q.length;
      q.length = 0;
    }
  }
  // Callers give up and users hang up: the receiver hears every call end instead of keeping it open.
  const callsWoundDown = sim.windDown(emit);
  pump();
  // Whatever fired before the end still goes out (each request has its timeout).
  if (inFlight > 0 || queued > 0) await new Promise<void>((resolve) => (idleWaiter = resolve));
  clearInterval(progress);
  transport.close();
  const elapsedMs = elapsed();
  const [p50, p95, p99, max] = latency.percentiles([50, 95, 99, 100]);
  return {
    seed,
    phones: opts.phones,
    phonesUp: sim.phones.reduce((n, p) => n + (p.state.booted ? 1 : 0), 0),
    durationSec: opts.durationSec,
    elapsedSec: Math.round(elapsedMs) / 1000,
    callsPerHour,
    requests: { sent, ok, failed, dropped, perSecond: Math.round((sent * 1000) / Math.max(1, elapsedMs)) },
    incidents: sortedCounts(incidents),
    failures: sortedCounts(failures),
    latencyMs: { p50, p95, p99, max },
    callsWoundDown,
  };
}
