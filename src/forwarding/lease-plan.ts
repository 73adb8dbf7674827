/**
 * Pure decisions for forwarding across several receivers on one PostgreSQL (docs/scale-out.md, "Once: deliveries"):
 * what a receiver tells the others about its destinations, how many delivery shards it should hold, which
 * ones it gives back, and whether the receivers are configured alike. The I/O is in lease-keeper.ts.
 */
import { createHash } from 'node:crypto';
import { DELIVERY_SHARDS } from '../store/delivery-rows.ts';
import type { ForwardingPeer } from '../store/types.ts';
import type { EventSelector } from './destinations.ts';

export type PeerDestination = ForwardingPeer['destinations'][number];

/** A selector in words, the same for equal selectors (sets sorted). */
export function selectorText(s: EventSelector): string {
  const events = s.allIncidents && s.allConclusions ? ['*'] : [...(s.allIncidents ? ['incidents'] : []), ...(s.allConclusions ? ['conclusions'] : []), ...[...s.types].sort()];
  const phones = s.macs || s.macPatterns ? [...(s.macs ?? [])].sort().concat((s.macPatterns ?? []).map((p) => p.source).sort()) : ['*'];
  return `events ${events.join(',') || '(none)'}; phones ${phones.join(',')}`;
}

/**
 * What the other receivers learn of a destination: its name, a digest of everything that decides where and
 * how its deliveries go (`settings`: URL, secret, timeout or broker, and the selector), and a summary
 * without secrets. Two receivers whose digests differ would send the same delivery differently depending
 * on which one holds its shard.
 */
export function describeDestination(name: string, kind: string, target: string, select: EventSelector, settings: string): PeerDestination {
  const selection = selectorText(select);
  const fingerprint = createHash('sha256').update(JSON.stringify([name, kind, settings, selection])).digest('hex').slice(0, 16);
  return { name, fingerprint, summary: `${kind} ${target}, ${selection}` };
}

/** Shards each receiver forwarding to `destination` should hold: an even split, rounded up. */
export function fairShare(peers: readonly ForwardingPeer[], destination: string): number {
  const n = peers.filter((p) => p.destinations.some((d) => d.name === destination)).length;
  return Math.ceil(DELIVERY_SHARDS / Math.max(1, n));
}

/**
 * Differences between this receiver's destinations and each other live receiver's, in one line each.
 * Empty when all forward to the same destinations with the same settings.
 */
export function configProblems(self: ForwardingPeer, peers: readonly ForwardingPeer[]): string[] {
  const mine = new Map(self.destinations.map((d) => [d.name, d]));
  const problems: string[] = [];
  for (const peer of peers) {
    if (peer.holder === self.holder) continue;
    const theirs = new Map(peer.destinations.map((d) => [d.name, d]));
    const missing = [...mine.keys()].filter((n) => !theirs.has(n));
    const extra = [...theirs.keys()].filter((n) => !mine.has(n));
    const differ = [...mine.keys()].filter((n) => theirs.has(n) && theirs.get(n)!.fingerprint !== mine.get(n)!.fingerprint);
    if (missing.length) problems.push(`receiver ${peer.holder} does not forward to ${missing.join(', ')}: events it takes get no deliveries there`);
    if (extra.length) problems.push(`receiver ${peer.holder} forwards to ${extra.join(', ')}, which this receiver does not: events this receiver takes get no deliveries there`);
    for (const n of differ) problems.push(`destination ${n} is set up differently on receiver ${peer.holder} (${theirs.get(n)!.summary}; here: ${mine.get(n)!.summary})`);
  }
  return problems;
}

/**
 * This receiver's next step for one destination: how many more shards to ask for, and which held ones to
 * hand over (above the fair share; the highest numbers, so receivers agree on what moves).
 */
export function planShards(held: readonly number[], share: number, enabled: boolean): { want: number; handOver: number[] } {
  if (!enabled) return { want: 0, handOver: [...held] };
  if (held.length <= share) return { want: share - held.length, handOver: [] };
  return { want: 0, handOver: [...held].sort((a, b) => a - b).slice(share) };
}
