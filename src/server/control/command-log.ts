/**
 * Where commands are kept: in the store (so they outlive a restart, and every receiver sharing a
 * PostgreSQL database answers for every command), written behind the command's progress, and in memory
 * only while this receiver still has something to do with them or has not stored their outcome yet.
 *
 * Writes are coalesced: whatever changed while one transaction was being written goes into the next, so a
 * burst of commands costs a few transactions, not three per command. A command's outcome reaches the store
 * a moment after the API shows it; the receiver answers from memory until then.
 *
 * A receiver that stops leaves its unfinished commands behind. They are failed with a clear reason: at
 * start, every unfinished command of a SQLite database (only one receiver uses it); on a shared database,
 * those past their deadline, by whichever receiver looks first (every `sweepMs`).
 */
import type { Logger } from 'pino';
import type { CommandRequest, CommandStatus } from '../../core/control/index.ts';
import type { VendorId } from '../../core/vendors/index.ts';
import type { Commands, StoredCommand } from '../../store/types.ts';
import type { SentSecrets } from './scrub.ts';

export interface CommandRecord {
  readonly id: string;
  readonly mac: string;
  readonly request: CommandRequest;
  vendor?: VendorId;
  status: CommandStatus;
  reason?: string;
  readonly createdAt: number;
  acceptedAt?: number;
  finishedAt?: number;
  confirmedBy?: { eventId: number; incident: string };
  /** Epoch ms after which the command is abandoned if still unfinished (see `abandonCommands`). */
  readonly deadlineAt: number;
  /** Monotonic ms at creation, for the latency metric. */
  readonly startedMono: number;
  /**
   * Only events with a larger id confirm it: the newest event id when it was sent. Unset until then (no
   * event can confirm a command not yet sent).
   */
  afterEventId?: number;
  timer?: NodeJS.Timeout;
  /**
   * The credentials that went out with the request (in memory only, never stored), blanked in whatever is
   * quoted from the phone's answer: the reason is built from the receiver's own words and those quotes.
   */
  secrets?: SentSecrets;
}

export function toStored(c: CommandRecord, owner: string): StoredCommand {
  return {
    id: c.id,
    mac: c.mac,
    command: c.request.command,
    number: c.request.number ?? null,
    keys: c.request.keys ? [...c.request.keys] : null,
    vendor: c.vendor ?? null,
    status: c.status,
    reason: c.reason ?? null,
    createdAt: c.createdAt,
    acceptedAt: c.acceptedAt ?? null,
    finishedAt: c.finishedAt ?? null,
    confirmedBy: c.confirmedBy ?? null,
    deadlineAt: c.deadlineAt,
    owner,
  };
}

/** Nothing more will happen to it: confirmed, failed, or accepted and not waiting for a confirmation. */
export const isFinal = (c: { finishedAt?: number | null }): boolean => c.finishedAt !== undefined && c.finishedAt !== null;

export const ABANDONED_REASON =
  'the receiver that sent this command stopped before it concluded; whether the phone did it is unknown: look at the phone, and send the command again if needed';

export interface CommandLogOptions {
  store: Commands;
  /** Other receivers share the store: commands they send are found there, and theirs are not ours to end. */
  shared: boolean;
  logger: Logger;
  now: () => number;
  /** This receiver process (random per start). */
  owner: string;
  /** The newest this many commands are kept. */
  keep: number;
  /** How often to fail commands abandoned by stopped receivers, and trim to `keep` (ms). */
  sweepMs: number;
  /** How long after its deadline another receiver's unfinished command counts as abandoned (ms). */
  graceMs: number;
  /** How often a waiting reader looks at the store for a command another receiver is running (ms). */
  pollMs: number;
}

/** Records held in memory at most (while the store cannot be written, the oldest finished ones go). */
const MAX_LIVE = 10_000;

export class CommandLog {
  private readonly live = new Map<string, CommandRecord>();
  private readonly dirty = new Set<CommandRecord>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private flushing: Promise<void> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private lastWriteError = 0;

  constructor(private readonly o: CommandLogOptions) {}

  /** Fails what a previous run left unfinished, then sweeps every `sweepMs`. */
  async start(): Promise<void> {
    const now = this.o.now();
    // One receiver per SQLite file: every unfinished command there was left by an earlier run.
    const abandoned = await this.o.store.abandonCommands({
      notOwner: this.o.owner,
      ...(this.o.shared ? { deadlineBefore: now - this.o.graceMs } : {}),
      reason: ABANDONED_REASON,
      now,
    });
    if (abandoned > 0) this.o.logger.warn({ commands: abandoned }, 'remote-control commands left unfinished by a stopped receiver marked failed');
    this.sweeper = setInterval(() => void this.sweep().catch((err) => this.o.logger.warn({ err }, 'remote-control command sweep failed')), this.o.sweepMs);
    this.sweeper.unref();
  }

  async sweep(): Promise<void> {
    const now = this.o.now();
    const abandoned = await this.o.store.abandonCommands({ notOwner: this.o.owner, deadlineBefore: now - this.o.graceMs, reason: ABANDONED_REASON, now });
    if (abandoned > 0) this.o.logger.warn({ commands: abandoned }, 'remote-control commands left unfinished by a stopped receiver marked failed');
    await this.o.store.trimCommands(this.o.keep);
  }

  add(record: CommandRecord): void {
    this.live.set(record.id, record);
    if (this.live.size > MAX_LIVE) {
      for (const [id, c] of this.live) {
        if (this.live.size <= MAX_LIVE) break;
        if (isFinal(c)) {
          this.live.delete(id);
          this.dirty.delete(c);
        }
      }
    }
    this.save(record);
  }

  /** The record changed: store it (soon), and wake whoever waits for it once it is final. */
  save(record: CommandRecord): void {
    this.dirty.add(record);
    if (isFinal(record)) for (const wake of [...(this.watchers.get(record.id) ?? [])]) wake();
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  private async flush(): Promise<void> {
    while (this.dirty.size > 0) {
      const batch = [...this.dirty];
      this.dirty.clear();
      const rows = batch.map((c) => toStored(c, this.o.owner));
      try {
        await this.o.store.putCommands(rows);
      } catch (err) {
        for (const c of batch) if (this.live.has(c.id)) this.dirty.add(c);
        if (this.o.now() - this.lastWriteError > 10_000) {
          this.lastWriteError = this.o.now();
          this.o.logger.warn({ err }, 'storing remote-control commands failed; retrying');
        }
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 1000).unref());
        continue;
      }
      // Stored final: the store answers for it from now on.
      for (let i = 0; i < batch.length; i++) if (rows[i].finishedAt !== null && !this.dirty.has(batch[i])) this.live.delete(batch[i].id);
    }
  }

  /** The record as the API and the store see it. */
  view(record: CommandRecord): StoredCommand {
    return toStored(record, this.o.owner);
  }

  /** A command this receiver holds in memory (in flight, or its outcome not stored yet). */
  held(id: string): CommandRecord | undefined {
    return this.live.get(id);
  }

  async get(id: string): Promise<StoredCommand | undefined> {
    const c = this.live.get(id);
    return c ? toStored(c, this.o.owner) : this.o.store.command(id);
  }

  /** The command once it is final, or as it stands after `ms`. Undefined for an unknown id. */
  async waitFor(id: string, ms: number): Promise<StoredCommand | undefined> {
    const until = this.o.now() + ms;
    for (;;) {
      const c = await this.get(id);
      // Unknown on a shared database: another receiver may have sent it a moment ago and not stored it yet
      // (it answers 202 before its write lands), so look again until the wait is over.
      if (!c && !this.o.shared) return c;
      if ((c && isFinal(c)) || this.closed || this.o.now() >= until) return c;
      const mine = this.live.get(id);
      const left = until - this.o.now();
      // This receiver's own: woken when it concludes. Another receiver's: look at the store again soon.
      await new Promise<void>((resolve) => {
        const set = this.watchers.get(id) ?? new Set();
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) this.watchers.delete(id);
          resolve();
        };
        const timer = setTimeout(done, mine ? left : Math.min(left, this.o.pollMs));
        set.add(done);
        this.watchers.set(id, set);
      });
    }
  }

  /** A phone's newest commands, newest first: the store's, with this receiver's newer state of its own. */
  async recent(mac: string, limit: number): Promise<StoredCommand[]> {
    const byId = new Map((await this.o.store.commands({ mac, limit })).map((c) => [c.id, c]));
    for (const c of this.live.values()) if (c.mac === mac) byId.set(c.id, toStored(c, this.o.owner));
    return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  /** Stops sweeping, stores what is pending (one try), and answers every waiting reader. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const set of [...this.watchers.values()]) for (const wake of [...set]) wake();
    await this.flushing;
    if (this.dirty.size > 0) await this.flush().catch(() => {});
  }
}
