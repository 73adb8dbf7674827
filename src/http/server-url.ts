/**
 * The base URL phones (and browsers) reach this receiver at, for the URLs written into config files and shown
 * on the dashboard's Set-up page: the configured public URL, else the scheme and Host of the request at hand.
 */
import { normalizeServerUrl } from '../core/ingest-url.ts';
import type { HttpRequest } from './types.ts';

export interface ServerAddress {
  /** Base URL, normalised (no trailing slash). */
  url: string;
  /** `configured`: the receiver's public URL. `request`: taken from the request's Host (or local address). */
  source: 'configured' | 'request';
}

export interface ServerAddressOptions {
  /** `--public-url`; a value that is not a usable URL is passed over in favour of the request's address. */
  publicUrl?: string;
  /** The receiver serves HTTPS. */
  tls?: boolean;
  /** Answer this instead of throwing when the request carries no usable host (the Set-up page still shows something). */
  fallback?: string;
}

const HOST = /^[A-Za-z0-9.:[\]_-]+$/;

/**
 * Scheme: HTTPS when the receiver or the connection is TLS, or a proxy says `X-Forwarded-Proto: https`.
 * Host: the `Host` header, else (HTTP/1.0) the address and port the request arrived on.
 * Throws a one-line Error when there is no usable host and no `fallback`.
 */
export function serverAddressOf(
  req: Pick<HttpRequest, 'headers' | 'secure' | 'localAddress' | 'localPort'>,
  options: ServerAddressOptions = {},
): ServerAddress {
  if (options.publicUrl) {
    try {
      return { url: normalizeServerUrl(options.publicUrl), source: 'configured' };
    } catch {
      // A bad public URL falls back to the request's address, which at least works for this client.
    }
  }
  const https = options.tls || req.secure || /^https$/i.test(req.headers['x-forwarded-proto']?.trim() ?? '');
  let host = req.headers.host?.trim();
  if (!host) {
    const addr = req.localAddress ?? '127.0.0.1';
    host = `${addr.includes(':') ? `[${addr}]` : addr}:${req.localPort ?? 80}`;
  }
  try {
    if (!HOST.test(host)) throw new Error(`Host header "${host.slice(0, 100)}" is not a host name`);
    return { url: normalizeServerUrl(`${https ? 'https' : 'http'}://${host}`), source: 'request' };
  } catch (err) {
    if (options.fallback !== undefined) return { url: options.fallback, source: 'request' };
    throw err;
  }
}
