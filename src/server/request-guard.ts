/**
 * Two checks that keep a web page from acting through the administrator's browser, for the API and the
 * dashboard (never for phones' ingest, which takes whatever Host and shape a phone sends):
 *
 * - A change (POST, PUT, PATCH, DELETE) must come from our own pages (`Sec-Fetch-Site` / `Origin` say so, or a
 *   client that is not a browser sends neither). A POST, the one change a page on another site can send
 *   without a CORS preflight (which this receiver never grants), must also, unless it carries
 *   `Authorization`, have a content type other than the three a plain form may use; that stops the
 *   body-less cross-site POST too. PUT, PATCH and DELETE always need a preflight.
 * - In the default access mode (this machine gets in without a token), the receiver answers the dashboard
 *   and API only to Host names that are its own, so a page whose name an attacker re-points at 127.0.0.1
 *   (DNS rebinding) cannot read or change anything: IP literals, `localhost`, this machine's host name, the
 *   `--public-url` host and the names given with `--allowed-host`.
 *
 * Pure: headers in, a reason (or undefined) out.
 */
import { isIP } from 'node:net';
import { isSameOriginPost } from '../core/login-guard.ts';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The content types a cross-site form or a no-preflight fetch may send. */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export const CROSS_SITE_REFUSED = 'changes from another site are refused (Origin or Sec-Fetch-Site is not this receiver)';
export const SIMPLE_SHAPE_REFUSED =
  'a POST needs Content-Type: application/json (or Authorization: Bearer <token>): the shape a page on another site cannot send';

type Headers = Readonly<Record<string, string | undefined>>;

/** Why this request may not change anything, or undefined when it may (or changes nothing). */
export function changeRefusal(method: string, headers: Headers): string | undefined {
  if (!CHANGES.has(method)) return undefined;
  if (!isSameOriginPost(headers)) return CROSS_SITE_REFUSED;
  if (method !== 'POST' || headers['authorization']) return undefined;
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === '' || SIMPLE_TYPES.has(type)) return SIMPLE_SHAPE_REFUSED;
  return undefined;
}

/** The host name of a Host header (`name:port`, `[v6]:port`), lower-case, without the trailing dot. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h.slice(1);
  }
  return h.replace(/:\d*$/, '').replace(/\.$/, '');
}

/** The names (besides IP literals and localhost) a receiver answers its dashboard and API to. */
export class OwnHostNames {
  private readonly names: Set<string>;

  constructor(names: readonly string[]) {
    this.names = new Set(names.filter(Boolean).map(hostName));
  }

  /** True for a Host header that names this receiver (a missing one is an old client, not a browser). */
  allows(host: string | undefined): boolean {
    if (host === undefined || host === '') return true;
    const name = hostName(host);
    if (isIP(name) !== 0) return true;
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    return this.names.has(name);
  }

  refusal(host: string | undefined): string | undefined {
    if (this.allows(host)) return undefined;
    return `this receiver does not answer to the name ${hostName(host!)}; use its address, or start it with --allowed-host ${hostName(host!)} (or --public-url)`;
  }
}
