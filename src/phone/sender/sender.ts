/**
 * A phone's sender: one GET per fired incident, strictly in firing order (the next request starts when the
 * previous one is answered or has failed), with a delivery log. Fire-and-forget like firmware: no retry
 * unless asked for, and the response body is ignored.
 */
import { splitUrl } from './target.ts';
import type { Transport } from './transport.ts';

export interface Delivery {
  /** Increases by one per request this phone sent. */
  seq: number;
  /** ISO time the request was queued (the incident fired). */
  time: string;
  incident: string;
  url: string;
  status: number | null;
  latencyMs: number;
  error?: string;
  attempts: number;
}

export interface SenderOptions {
  transport: Transport;
  /** Extra attempts after a failure (no response, or a 5xx). Default 0, as firmware. */
  retries?: number;
  retryDelayMs?: number;
  /** Deliveries kept for the log page. Default 500. */
  logSize?: number;
  onDelivery?: (d: Delivery) => void;
  /** Injected for tests; default real time. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Sender {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private seq = 0;
  private readonly log: Delivery[] = [];

  constructor(private readonly opts: SenderOptions) {}

  /** Queues a request; resolves with its delivery once sent (or failed). */
  send(incident: string, url: string): Promise<Delivery> {
    const time = new Date().toISOString();
    this.pending++;
    const done = this.queue.then(() => this.deliver(incident, url, time));
    this.queue = done.then(() => {
      this.pending--;
    });
    return done;
  }

  /** Requests queued or in flight. */
  get backlog(): number {
    return this.pending;
  }

  /** Resolves when everything queued so far has been sent. */
  drained(): Promise<void> {
    return this.queue;
  }

  /** Newest last. */
  deliveries(): readonly Delivery[] {
    return this.log;
  }

  private async deliver(incident: string, url: string, time: string): Promise<Delivery> {
    const target = splitUrl(url);
    const retries = this.opts.retries ?? 0;
    let d: Delivery;
    if ('error' in target) {
      d = { seq: ++this.seq, time, incident, url, status: null, latencyMs: 0, error: `bad_url: ${target.error}`, attempts: 0 };
    } else {
      let attempts = 0;
      for (;;) {
        attempts++;
        const o = await this.opts.transport.send(target);
        const latencyMs = o.latencyMs;
        const failed = o.status === null || o.status >= 500;
        if (!failed || attempts > retries) {
          d = { seq: ++this.seq, time, incident, url, status: o.status, latencyMs, ...(o.error ? { error: o.error } : {}), attempts };
          break;
        }
        await (this.opts.sleep ?? realSleep)((this.opts.retryDelayMs ?? 500) * attempts);
      }
    }
    this.log.push(d);
    if (this.log.length > (this.opts.logSize ?? 500)) this.log.shift();
    this.opts.onDelivery?.(d);
    return d;
  }
}
