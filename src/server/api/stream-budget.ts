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

export class StreamBudget {
  private readonly members = new Set<BudgetMember>();

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

  /**
   * After a write that the socket could not take at once (the only moment the total grows by more than a
   * socket's small high-water mark): over the total, cut the clients with the most unsent bytes until it fits.
   */
  check(): void {
    let total = this.total;
    if (total <= this.maxTotalBytes) return;
    const bySize = [...this.members].map((m) => ({ m, bytes: m.buffered })).sort((a, b) => b.bytes - a.bytes);
    for (const { m, bytes } of bySize) {
      if (total <= this.maxTotalBytes || bytes === 0) break;
      this.members.delete(m);
      total -= bytes;
      this.onDrop();
      m.drop();
    }
  }
}
