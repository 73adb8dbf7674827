/**
 * Keeps this receiver's delivery leases when several receivers share one PostgreSQL (docs/scale-out.md,
 * "Once: deliveries"). Every `leaseMs / 3` it tells the others what it forwards to, renews its leases, takes free or
 * expired shards up to its fair share, and hands over shards above it; then tells each destination's worker
 * which shards are its own and until when.
 *
 * Why this is safe:
 * - A shard is handed over only once no attempt of it is in flight and the outcomes so far are stored, so
 *   the next holder neither repeats a finished delivery nor overtakes one in flight.
 * - A worker starts attempts only until half a lease after the renewal was sent: if renewals stop (this
 *   receiver cut off from PostgreSQL, or stalled), it stops sending well before another receiver may take
 *   the shard over, and attempts already in flight have the other half to finish.
 * - A receiver that dies simply stops renewing; its shards are taken over once their leases run out. What
 *   it had in flight is sent again by the new holder (at least once, as after a crash of a single receiver).
 */
import type { Logger } from 'pino';
import type { DeliveryLeases, ForwardingPeer } from '../store/types.ts';
import { configProblems, fairShare, planShards, type PeerDestination } from './lease-plan.ts';
import type { OutboxWorker } from './outbox-worker.ts';

export interface LeasedDestination {
  info: PeerDestination;
  worker: OutboxWorker;
  /** False once switched off (410 Gone): its shards are handed over. */
  enabled: boolean;
}

export interface LeaseKeeperOptions {
  leases: DeliveryLeases;
  holder: string;
  leaseMs: number;
  destinations(): LeasedDestination[];
  /** Stores the attempt outcomes gathered so far. */
  flush(): Promise<void>;
  now(): number;
  logger: Logger;
}

/** Every this many rounds each worker reads its outbox again from the start (rows retried by hand elsewhere). */
const RESCAN_ROUNDS = 6;

export class LeaseKeeper {
  /** Shards held per destination, as PostgreSQL last said. */
  private held = new Map<string, number[]>();
  /** Held shards being handed over: no new attempts; given back once nothing of them is in flight. */
  private handingOver = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rounds = 0;
  private lastFailureLog = 0;
  private reported = '';
  /** Differences with the other receivers' destinations (see configProblems). */
  problems: string[] = [];
  /** Receivers alive on the database, this one included. */
  receivers = 0;

  constructor(private readonly o: LeaseKeeperOptions) {}

  start(): void {
    this.round();
    this.timer = setInterval(() => this.round(), Math.max(100, Math.floor(this.o.leaseMs / 3)));
    this.timer.unref();
  }

  /** One round now (unless one is running); resolves when it is over. */
  round(): Promise<void> {
    this.running ??= this.tick()
      .catch((err) => {
        if (this.o.now() - this.lastFailureLog < 10_000) return;
        this.lastFailureLog = this.o.now();
        this.o.logger.warn({ err }, 'renewing forwarding leases failed; deliveries wait until it works again');
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops renewing (leases then run out unless `leave` gives them back). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Gives every lease back at once, for a clean stop: after the workers stopped and outcomes are stored. */
  leave(): Promise<void> {
    return this.o.leases.leave(this.o.holder);
  }

  private async tick(): Promise<void> {
    const sentAt = this.o.now();
    const destinations = this.o.destinations();
    const self: ForwardingPeer = { holder: this.o.holder, destinations: destinations.filter((d) => d.enabled).map((d) => d.info) };
    const peers = await this.o.leases.heartbeat(self, this.o.leaseMs);
    this.receivers = peers.length;
    this.report(configProblems(self, peers));

    // Shards being handed over whose attempts are all done: store the outcomes, then give them back.
    const release: { destination: string; shard: number }[] = [];
    for (const d of destinations) {
      const busy = d.worker.busyShards();
      for (const shard of this.handingOver.get(d.info.name) ?? []) if (!busy.has(shard)) release.push({ destination: d.info.name, shard });
    }
    if (release.length) await this.o.flush();
    const want: Record<string, number> = {};
    for (const d of destinations) {
      const name = d.info.name;
      const kept = (this.held.get(name) ?? []).filter((s) => !release.some((r) => r.destination === name && r.shard === s));
      want[name] = planShards(kept, fairShare(peers, name), d.enabled).want;
    }
    const held = await this.o.leases.claim(this.o.holder, this.o.leaseMs, want, release);

    const validUntil = sentAt + this.o.leaseMs / 2;
    const rescan = ++this.rounds % RESCAN_ROUNDS === 0;
    for (const d of destinations) {
      const name = d.info.name;
      const mine = held[name] ?? [];
      this.held.set(name, mine);
      const over = new Set([...(this.handingOver.get(name) ?? [])].filter((s) => mine.includes(s)));
      for (const s of planShards(mine, fairShare(peers, name), d.enabled).handOver) over.add(s);
      this.handingOver.set(name, over);
      d.worker.setShards(new Set(mine.filter((s) => !over.has(s))), validUntil);
      // Rows other receivers wrote (conclusions, rows retried by hand) are found without waiting for an event.
      if (rescan) d.worker.rescan();
      else d.worker.wake();
    }
  }

  private report(problems: string[]): void {
    this.problems = problems;
    const text = problems.join('\n');
    if (text === this.reported) return;
    this.reported = text;
    if (problems.length) {
      this.o.logger.error({ problems }, 'receivers on this database forward to different destinations; start every receiver with the same --webhook, --forward and --mqtt settings');
    } else {
      this.o.logger.info('receivers on this database forward to the same destinations');
    }
  }
}
