/**
 * Where the receiver may send control requests at all. Every control request carries the phones' admin
 * credentials, so a target outside the phones' networks is refused before anything is connected: the
 * receiver is not a way to reach (or probe) other hosts, whatever a control address says.
 * - `--control-networks`: the networks phones may be controlled in; default the private and loopback ones.
 * - Never, whatever that flag says: link-local addresses (169.254.0.0/16 holds the cloud metadata service,
 *   fe80::/10), unspecified, multicast and broadcast addresses, the known cloud metadata addresses and names.
 * A host name is checked by name here and by each address it resolves to when the request connects
 * (`guardedLookup`), so a name that resolves somewhere else later is refused too.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import { Allowlist } from '../access.ts';

export const DEFAULT_CONTROL_NETWORKS: readonly string[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128', 'fc00::/7',
];

const LINK_LOCAL = new Allowlist(['169.254.0.0/16', 'fe80::/10']);
const NEVER = new Allowlist([
  '0.0.0.0/8', '::/128', '224.0.0.0/4', '255.255.255.255/32', 'ff00::/8',
  // Cloud metadata services outside link-local: AWS over IPv6, Alibaba Cloud.
  'fd00:ec2::254/128', '100.100.100.200/32',
]);
const METADATA_NAMES = new Set([
  'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal',
  'metadata.azure.com', 'metadata.tencentyun.com', 'metadata.platformequinix.com', 'metadata.packet.net',
]);

/** An IPv4-mapped IPv6 address in its IPv4 form (`::ffff:a9fe:a9fe` → `169.254.169.254`), else as given. */
export function plainIp(address: string): string {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted && net.isIPv4(dotted[1])) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

/** Two spellings of one address (`::ffff:10.0.0.1` and `10.0.0.1`, `[::1]` and `::1`). */
export function sameAddress(a: string, b: string): boolean {
  return plainIp(a) === plainIp(b);
}

export class ControlNetworks {
  private readonly allowed: Allowlist;
  readonly spec: string;

  /** `spec`: comma-separated CIDR ranges (default DEFAULT_CONTROL_NETWORKS); throws a one-line error. */
  constructor(spec?: string | readonly string[]) {
    const parts = spec === undefined ? DEFAULT_CONTROL_NETWORKS : (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim()).filter(Boolean);
    try {
      this.allowed = new Allowlist(parts);
    } catch (err) {
      throw new Error(`--control-networks: ${(err as Error).message}`, { cause: err });
    }
    if (this.allowed.empty) throw new Error('--control-networks: give at least one network, e.g. 10.0.0.0/8');
    this.spec = parts.join(',');
  }

  /** Why an address may not be a control target, or undefined when it may. */
  refuseAddress(address: string): string | undefined {
    const ip = plainIp(address);
    if (LINK_LOCAL.allows(ip)) return `${ip} is link-local (169.254.0.0/16, fe80::/10), where cloud metadata services answer; control requests never go there`;
    if (NEVER.allows(ip)) return `${ip} is an unspecified, multicast, broadcast or cloud metadata address; control requests never go there`;
    if (!this.allowed.allows(ip)) return `${ip} is outside the networks phones may be controlled in (--control-networks ${this.spec})`;
    return undefined;
  }

  /** Why a URL's host may not be a control target (an address, or a name checked by name only), or undefined. */
  refuseHost(hostname: string): string | undefined {
    const host = hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) return this.refuseAddress(host);
    const name = host.toLowerCase().replace(/\.$/, '');
    if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata service's name; control requests never go there`;
    return undefined;
  }

  /**
   * A `lookup` for http.request that refuses, before connecting, a name resolving to any address that may
   * not be a control target. The error's code is ECONTROLREFUSED and its message the reason.
   */
  guardedLookup(): net.LookupFunction {
    return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, []);
        for (const a of addresses) {
          const why = this.refuseAddress(a.address);
          if (why) return callback(refusal(`${hostname} resolves to ${a.address}, and ${why}`), []);
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0];
        return callback(null, first.address, first.family);
      });
    };
  }
}

/** The error a refused target gives (see guardedLookup). */
export function refusal(reason: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(reason);
  err.code = 'ECONTROLREFUSED';
  return err;
}
