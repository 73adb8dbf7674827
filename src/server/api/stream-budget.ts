/**
 * The memory all event-stream clients may hold together. Each client is also limited on its own
 * (`maxBufferedBytes`), but many clients that never read, each under its own limit, would still add up to
 * hundreds of megabytes and slow everything else down (garbage collection over big buffers). Past the total,
 * the clients with the most unsent bytes are cut first: they are the ones furthest behind, and cutting them
 * frees the most; a client that keeps up holds next to nothing and is the last to go. A cut client can
 * resume with Last-Event-ID.
 */

export interface BudgetMember {
  /** Bytes sent to this client that it has not taken yet. */
  readonly buffered: number;
  /** Cut it now (its unsent bytes are freed). */
  drop(): void;
}

/** Once over the total, clients are cut until this share of it is left, so the next pass is a while off. */
const LOW_WATER = 0.9;

export class StreamBudget {
  private readonly members = new Set<BudgetMember>();
  /**
   * At least what all clients hold: the exact total at the last count plus every byte written since (clients
   * only ever take bytes in between). Counting is a pass over all clients; this bound says when one is due.
   */
  private bound = 0;

  constructor(
    /** Most unsent bytes for all stream clients together. */
    readonly maxTotalBytes: number,
    /** Told once per client cut. */
    private readonly onDrop: () => void = () => {},
  ) {}

  add(member: BudgetMember): void {
    this.members.add(member);
  }

  delete(member: BudgetMember): void {
    this.members.delete(member);
  }

  /** Unsent bytes of all clients now. */
  get total(): number {
    let sum = 0;
    for (const m of this.members) sum += m.buffered;
    return sum;
  }

  /** After each write of `bytes` to a client: counts when the total may be over, and cuts if it is. */
  wrote(bytes: number): void {
    this.bound += bytes;
    if (this.bound > this.maxTotalBytes) this.check();
  }

  /** Over the total: cut the clients with the most unsent bytes until it is back under LOW_WATER of it. */
  private check(): void {
    let total = this.total;
    if (total > this.maxTotalBytes) {
      const floor = this.maxTotalBytes * LOW_WATER;
      const bySize = [...this.members].map((m) => ({ m, bytes: m.buffered })).sort((a, b) => b.bytes - a.bytes);
      for (const { m, bytes } of bySize) {
        if (total <= floor || bytes === 0) break;
        this.members.delete(m);
        total -= bytes;
        this.onDrop();
        m.drop();
      }
    }
    this.bound = total;
  }
}
