/**
 * phone.offline: a periodic sweep finds phones silent for the offline threshold. Every few minutes it stores
 * how far that is done (the offline mark), so a restart knows which phones' offline moments passed while
 * the receiver was stopped: those get theirs at start, with the same dedupe key a sweep of the earlier run
 * would have used, so each is stored once however often the receiver restarts.
 */
import type { PhoneState } from '../domain/types.ts';
import type { NewDelivery, Settings } from '../store/types.ts';
import { offlineConclusions } from './conclusions.ts';
import type { EventRouting } from './event-routing.ts';

/**
 * Setting: every phone whose offline moment is at or before this time (epoch ms) has had its phone.offline
 * derived. Start-up derives those of the phones whose moment came later, while the receiver was stopped.
 */
export const OFFLINE_SWEPT_SETTING = 'forwarding.offline_swept_until';
/** How often the mark above is stored at most; a mark this stale only re-derives rows the dedupe key drops. */
const SWEPT_MARK_EVERY_MS = 5 * 60_000;

export interface OfflineSweepOptions {
  store: Pick<Settings, 'setting' | 'putSetting'>;
  phones: { all(): PhoneState[] };
  routing: Pick<EventRouting, 'wantsConclusions' | 'conclusionRows'>;
  offlineAfterMs: number;
  now(): number;
}

export interface DerivedRows {
  addDeliveries(rows: readonly NewDelivery[]): void;
  flush(): Promise<void>;
}

export class OfflineSweep {
  /** Per phone, the last-seen time whose phone.offline has been derived. */
  private readonly announced = new Map<string, number>();
  /** The offline mark as stored (OFFLINE_SWEPT_SETTING); undefined: never stored. */
  private sweptUntil: number | undefined;
  private sweptStoredAt = 0;

  constructor(private readonly o: OfflineSweepOptions) {}

  /** Reads the offline mark an earlier run stored. */
  async load(): Promise<void> {
    const mark = Number(await this.o.store.setting(OFFLINE_SWEPT_SETTING));
    this.sweptUntil = Number.isFinite(mark) && mark > 0 ? mark : undefined;
  }

  /**
   * At start: phones whose offline moment passed before the offline mark had theirs derived by an earlier
   * run. Without a mark (the first start with forwarding), phones silent long ago are not announced all at once.
   */
  start(): void {
    const now = this.o.now();
    for (const p of this.o.phones.all()) {
      const moment = p.lastSeen + this.o.offlineAfterMs;
      if (moment <= now && (this.sweptUntil === undefined || moment <= this.sweptUntil)) this.announced.set(p.mac, p.lastSeen);
    }
  }

  /** Phones silent for the offline threshold: phone.offline rows into `commits`; now and then, the mark stored once they are. */
  async sweep(commits: DerivedRows): Promise<void> {
    const now = this.o.now();
    const found = this.o.routing.wantsConclusions ? offlineConclusions(this.o.phones.all(), now, this.o.offlineAfterMs, this.announced) : [];
    if (found.length) commits.addDeliveries(this.o.routing.conclusionRows(found));
    if (now - this.sweptStoredAt < SWEPT_MARK_EVERY_MS) return;
    this.sweptStoredAt = now;
    if (found.length) await commits.flush();
    await this.o.store.putSetting(OFFLINE_SWEPT_SETTING, String(now));
  }
}
