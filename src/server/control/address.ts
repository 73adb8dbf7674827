/**
 * A phone's approved control address against what its events say about where it is. Events never change
 * the approved address (anyone on the phones' network can send an event naming any MAC and any `$ip`); they
 * only make a phone look *moved*: then its commands are refused until the admin confirms the new address,
 * because the old address may now belong to another device, which would receive the admin credentials.
 */
import net from 'node:net';
import { plainIp, sameAddress } from './networks.ts';

/** Where a phone's latest event says it is: its `$ip` (empty when it sent none) and the request's source. */
export interface AddressReport {
  ip: string;
  /** Unknown for a phone whose last event came before this receiver started. */
  source?: string;
}

/** Most phones whose latest report is kept; beyond, the oldest is forgotten (the registry's `ip` remains). */
const MAX_REPORTS = 50_000;
/** Longest address text quoted in a reason (an event's `$ip` is whatever the sender wrote). */
const MAX_QUOTED = 64;

export class AddressReports {
  private readonly byMac = new Map<string, AddressReport>();

  note(mac: string, report: AddressReport): void {
    this.byMac.delete(mac);
    this.byMac.set(mac, report);
    if (this.byMac.size > MAX_REPORTS) this.byMac.delete(this.byMac.keys().next().value!);
  }

  /** The latest report, else what the phone registry knows (`ip`: the last `$ip`, or the source of its first event). */
  get(mac: string, registryIp: string | undefined): AddressReport | undefined {
    return this.byMac.get(mac) ?? (registryIp ? { ip: registryIp } : undefined);
  }
}

/** The host of a URL without IPv6 brackets. */
export function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/**
 * The address a phone seems to have moved to: its approved host is an address, and neither the `$ip` it
 * reports nor the address its request came from is that address. Undefined when it has not moved, when it
 * reported nothing, or when the approved host is a name (nothing to compare it with).
 */
export function movedTo(approvedUrl: string, report: AddressReport | undefined): string | undefined {
  if (!report) return undefined;
  const host = urlHost(approvedUrl);
  if (!net.isIP(host)) return undefined;
  const ip = report.ip.slice(0, MAX_QUOTED);
  const here = (a: string | undefined) => a !== undefined && a !== '' && sameAddress(a, host);
  if (here(ip) || here(report.source)) return undefined;
  const to = net.isIP(ip) ? ip : report.source ?? ip;
  return to === '' ? undefined : plainIp(to);
}

/** The addresses a phone reports now (its `$ip` when it is an address, and its source), for confirming one. */
export function reportedAddresses(report: AddressReport | undefined): string[] {
  if (!report) return [];
  const out = new Set<string>();
  if (net.isIP(report.ip)) out.add(plainIp(report.ip));
  if (report.source && net.isIP(report.source)) out.add(plainIp(report.source));
  return [...out];
}

/** `url` with its host replaced by `address` (scheme, port and path kept); `http://<address>` without a URL. */
export function urlWithHost(url: string | null, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  if (!url) return `http://${host}`;
  const u = new URL(url);
  return `${u.protocol}//${host}${u.port ? `:${u.port}` : ''}${u.pathname.replace(/\/+$/, '')}`;
}
