/**
 * Splitting an expanded Action URL into where to connect and the request target, without the WHATWG URL
 * parser: that parser percent-encodes spaces and non-ASCII, and phones send them raw.
 */

export interface RequestTarget {
  secure: boolean;
  /** Host to connect to (IPv6 without brackets). */
  host: string;
  port: number;
  /** `host[:port]` exactly as written in the URL, for the Host header. */
  hostHeader: string;
  /** Everything after the authority, raw (`/actionurl/x?name=John Doe`); at least `/`. */
  target: string;
  /** `user:password` from the URL, sent as basic auth. */
  userinfo?: string;
}

export function splitUrl(url: string): RequestTarget | { error: string } {
  let rest = url;
  let secure = false;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if (s !== 'http' && s !== 'https') return { error: `unsupported scheme "${scheme[1]}"` };
    secure = s === 'https';
    rest = rest.slice(scheme[0].length);
  }
  // Grandstream may omit the scheme (`server/mac=$mac`): that is plain HTTP.
  let end = rest.length;
  for (const ch of ['/', '?', ';', '#']) {
    const i = rest.indexOf(ch);
    if (i !== -1 && i < end) end = i;
  }
  let authority = rest.slice(0, end);
  let target = rest.slice(end);
  if (!target.startsWith('/')) target = `/${target}`;
  let userinfo: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }
  const parsed = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(authority);
  if (!parsed) return { error: `no server address in "${url.slice(0, 80)}"` };
  const host = parsed[1] ?? parsed[2];
  const port = parsed[3] === undefined ? (secure ? 443 : 80) : Number(parsed[3]);
  if (port < 1 || port > 65535) return { error: `port ${parsed[3]} is out of range` };
  return { secure, host, port, hostHeader: authority, target, ...(userinfo !== undefined ? { userinfo } : {}) };
}

export interface RequestHead {
  userAgent?: string;
  keepAlive?: boolean;
  /** Older firmware quirks receivers must cope with: an HTTP/1.0 request line, no Host header. */
  http10?: boolean;
  noHost?: boolean;
}

/** The request bytes: the target goes out as the UTF-8 bytes of the text, unencoded, as firmware sends it. */
export function requestBytes(t: RequestTarget, head: RequestHead = {}): Buffer {
  let text = `GET ${t.target} HTTP/1.${head.http10 ? 0 : 1}\r\n`;
  if (!head.noHost) text += `Host: ${t.hostHeader}\r\n`;
  if (head.userAgent) text += `User-Agent: ${head.userAgent}\r\n`;
  if (t.userinfo !== undefined) text += `Authorization: Basic ${Buffer.from(decodeURIComponent(t.userinfo)).toString('base64')}\r\n`;
  text += `Connection: ${head.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  return Buffer.from(text, 'utf8');
}
