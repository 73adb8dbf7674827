/**
 * The request/response shape every HTTP handler of the receiver is written against (ingest, REST API,
 * event stream, provisioning, dashboard). The receiver parses HTTP itself, because phones send request
 * lines Node's parser refuses (raw spaces, raw UTF-8, no Host header); handlers never see the difference.
 */

export interface HttpRequest {
  /** Upper-case method as sent. */
  readonly method: string;
  /** The request target exactly as received, bytes (may contain raw spaces and non-UTF-8 bytes). */
  readonly rawTarget: Buffer;
  /** Path part of the target, percent-decoded where valid (for routing). */
  readonly path: string;
  /** Query part of the target, parsed leniently. */
  readonly query: URLSearchParams;
  /**
   * Header names lower-cased; repeated headers joined with ", ". An object without a prototype, so a header
   * named `__proto__` or `constructor` is data like any other and a name nobody sent reads undefined.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  readonly httpVersion: string;
  /** Request body (empty for GET). */
  readonly body: Buffer;
  /** Peer address, without an IPv4-mapped `::ffff:` prefix. */
  readonly remoteAddress: string;
  /** Monotonic time (performance.now()) at which the request head was complete. */
  readonly receivedAt: number;
  /** The server's own address and port this request arrived on (for URLs when there is no Host header). */
  readonly localAddress?: string;
  readonly localPort?: number;
  /** True when the request arrived over TLS. */
  readonly secure?: boolean;
}

export interface HttpResponse {
  /** Sends a whole response. Content-Length is set; `body` strings are UTF-8. */
  send(status: number, body?: string | Buffer, headers?: Record<string, string>): void;
  /** JSON body with `application/json; charset=utf-8`. */
  json(status: number, value: unknown, headers?: Record<string, string>): void;
  /**
   * Starts a streamed response (Server-Sent Events, downloads): headers now, then `write` chunks, then `end`.
   * The connection is not reused afterwards.
   */
  stream(status: number, headers: Record<string, string>): HttpStream;
  /** True once a response was started. */
  readonly sent: boolean;
}

export interface HttpStream {
  /** Returns false when the peer is slow (backpressure), like a Writable. */
  write(chunk: string | Buffer): boolean;
  /** Bytes written on this connection that the peer has not taken yet (0 once closed). */
  readonly buffered: number;
  end(): void;
  /**
   * Cuts the connection now, throwing away what the peer has not taken: for a client that does not read,
   * whose unsent bytes would otherwise stay in memory until the socket gives up.
   */
  abort(): void;
  /** Called once when the peer goes away or `end` was called. */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;

/** A request the HTTP layer itself refused (not HTTP/1.x, too long, unsupported framing, too slow). */
export interface HttpRefusal {
  status: number;
  /** The one line the client got. */
  reason: string;
  /** The method, when the request line got that far; else ''. */
  method: string;
  /** The target, or the whole request line when it could not be split; at most 1 KiB, as received. */
  rawTarget: Buffer;
  remoteAddress: string;
}
