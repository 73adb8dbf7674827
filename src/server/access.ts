/**
 * Who may send events: a source allowlist (`--allow 10.0.0.0/8,fd00::/8,192.168.1.20`) and a per-source rate
 * limit (token bucket). Both are pure over their inputs; the clock comes in as an argument.
 */
import net from 'node:net';

interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

/** 128-bit value of an address (IPv4 as its IPv4-mapped IPv6 form when `mapped`), or undefined. */
function addressBits(address: string): { family: 4 | 6; bits: bigint } | undefined {
  const a = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (net.isIPv4(a)) {
    const bits = a.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, bits };
  }
  if (!net.isIPv6(a)) return undefined;
  let text = a.includes('%') ? a.slice(0, a.indexOf('%')) : a;
  // A trailing dotted quad (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = addressBits(quad[1])!.bits;
    text = `${text.slice(0, quad.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const bits = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  return { family: 6, bits };
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a single address. Throws a one-line error for anything else. */
export function parseCidr(text: string): Cidr {
  const [addr, prefixText, more] = text.trim().split('/');
  const parsed = addressBits(addr);
  if (!parsed || more !== undefined) throw new Error(`"${text}" is not an address or CIDR range (e.g. 10.0.0.0/8, fd00::/8)`);
  const max = parsed.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`"${text}": prefix length must be 0..${max}`);
  const width = BigInt(max);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << (width - BigInt(prefix));
  return { family: parsed.family, bits: parsed.bits & mask, prefix };
}

export class Allowlist {
  private readonly ranges: Cidr[];

  /** `spec`: comma-separated ranges. */
  constructor(spec: string | readonly string[]) {
    const parts = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim()).filter(Boolean);
    this.ranges = parts.map(parseCidr);
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  allows(address: string): boolean {
    const a = addressBits(address);
    if (!a) return false;
    return this.ranges.some((r) => {
      if (r.family !== a.family) return false;
      const width = BigInt(r.family === 4 ? 32 : 128);
      const mask = r.prefix === 0 ? 0n : ((1n << BigInt(r.prefix)) - 1n) << (width - BigInt(r.prefix));
      return (a.bits & mask) === r.bits;
    });
  }
}

export interface RateLimit {
  /** Sustained requests per second per source. */
  perSecond: number;
  /** Requests a source may send at once after a quiet spell. */
  burst: number;
}

/** `--rate-limit 50` or `50/s`, optionally with a burst: `50/s:200`. */
export function parseRateLimit(text: string): RateLimit {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*s)?\s*(?::\s*(\d+))?\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new Error(`--rate-limit "${text}": expected requests per second per source, e.g. 50 or 50/s:200`);
  const perSecond = Number(m[1]);
  return { perSecond, burst: m[2] !== undefined ? Number(m[2]) : Math.max(1, Math.ceil(perSecond * 2)) };
}

/**
 * One token bucket per source address. Buckets of sources that went quiet are forgotten (a full bucket is
 * the same as no bucket), so memory stays bounded by the sources active within a refill period.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(private readonly limit: RateLimit) {}

  /** Takes a token for `source` at `now` (ms); false when the source is over its limit. */
  take(source: string, now: number): boolean {
    const { perSecond, burst } = this.limit;
    let b = this.buckets.get(source);
    if (!b) {
      b = { tokens: burst, at: now };
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
    }
    this.sweep(now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get tracked(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const refillMs = (this.limit.burst / this.limit.perSecond) * 1000;
    if (now - this.lastSweep < Math.max(1000, refillMs)) return;
    this.lastSweep = now;
    for (const [source, b] of this.buckets) if (now - b.at >= refillMs) this.buckets.delete(source);
  }
}
