/**
 * Keeping refused requests without letting a flood fill the disk.
 *
 * Every refused request is counted in the metrics. The first `perSource` refusals of a source in each
 * window are stored one by one; after that, that source's refusals in the window are only counted and
 * written as one summary row per kind of refusal when the window closes (`count` says how many it stands
 * for; the last one's reason and target are shown). A kind is a fixed code (`unknown_incident`,
 * `wrong_token`, `http_400`, …), never the reason text, which names what the client sent: a client varying
 * that text gets no extra rows. A global budget per window caps the rows from all sources together, so
 * spoofed or many distinct sources cannot get around the per-source limit; over budget, refusals go into
 * summary rows as well. Summary rows per window are capped too; beyond, sources share source `*`.
 */
import type { NewRejected } from '../store/types.ts';

export interface RejectionPolicy {
  /** Window length, ms. */
  windowMs: number;
  /** Refusals of one source stored one by one per window. */
  perSource: number;
  /** Refusals of all sources stored one by one per window. */
  total: number;
  /** Sources tracked per window; beyond, refusals are summarised under source `*`. */
  maxSources: number;
  /** Summary rows kept per window; beyond, new summaries go under source `*` (one per kind). */
  maxSummaries: number;
}

export const DEFAULT_REJECTION_POLICY: RejectionPolicy = {
  windowMs: 60_000,
  perSource: 20,
  total: 2000,
  maxSources: 10_000,
  maxSummaries: 1000,
};

/** Kinds of refusal with no code of their own share this one under source `*` once summaries are full. */
const OTHER = 'other';

interface Summary {
  count: number;
  status: number;
  method: string;
  rawTarget: Buffer;
  sourceIp: string;
  reason: string;
  lastAt: number;
}

export class RejectionSampler {
  private windowStart = 0;
  private storedTotal = 0;
  private readonly perSource = new Map<string, number>();
  /** Suppressed refusals by source and kind of refusal. */
  private readonly summaries = new Map<string, Summary>();

  constructor(private readonly policy: RejectionPolicy = DEFAULT_REJECTION_POLICY) {}

  /**
   * Whether this refusal is stored on its own (`store`) or only counted (`summarised`). Returns the rows of
   * the previous window's summaries when a new window began, to be stored now. `code` is the kind of
   * refusal: a fixed word such as the decoder's problem code, never text taken from the request.
   */
  admit(r: NewRejected, code: string): { store: boolean; summaries: NewRejected[] } {
    const summaries = r.receivedAt - this.windowStart >= this.policy.windowMs ? this.rollover(r.receivedAt) : [];
    const seen = this.perSource.get(r.sourceIp);
    const trackable = seen !== undefined || this.perSource.size < this.policy.maxSources;
    const count = (seen ?? 0) + 1;
    if (trackable) this.perSource.set(r.sourceIp, count);
    if (trackable && count <= this.policy.perSource && this.storedTotal < this.policy.total) {
      this.storedTotal++;
      return { store: true, summaries };
    }
    let source = trackable ? r.sourceIp : '*';
    let key = `${source}\u0000${code}`;
    let s = this.summaries.get(key);
    if (!s && this.summaries.size >= this.policy.maxSummaries) {
      // Full: one shared summary per kind (and past a few more, one for all kinds), so the map stays bounded.
      source = '*';
      key = `*\u0000${code}`;
      s = this.summaries.get(key);
      if (!s && this.summaries.size >= this.policy.maxSummaries + 64) {
        key = `*\u0000${OTHER}`;
        s = this.summaries.get(key);
      }
    }
    if (s) {
      s.count++;
      s.lastAt = r.receivedAt;
      s.rawTarget = r.rawTarget;
      s.reason = r.reason;
      s.status = r.status;
      s.method = r.method;
    } else {
      this.summaries.set(key, { count: 1, status: r.status, method: r.method, rawTarget: r.rawTarget, sourceIp: source, reason: r.reason, lastAt: r.receivedAt });
    }
    return { store: false, summaries };
  }

  /** Summary rows of the current window (at shutdown, or from a timer when the window is over). */
  drain(now: number, force = false): NewRejected[] {
    if (!force && now - this.windowStart < this.policy.windowMs) return [];
    return this.rollover(now);
  }

  private rollover(now: number): NewRejected[] {
    const rows: NewRejected[] = [...this.summaries.values()].map((s) => ({
      receivedAt: s.lastAt,
      sourceIp: s.sourceIp,
      method: s.method,
      status: s.status,
      reason: `${s.reason} (summary: ${s.count} refused requests of this kind, the last one shown)`,
      rawTarget: s.rawTarget,
      count: s.count,
    }));
    this.summaries.clear();
    this.perSource.clear();
    this.storedTotal = 0;
    this.windowStart = now;
    return rows;
  }
}
