/**
 * One client connection: bytes in through the lenient parser, requests out to the handler, answers back
 * in request order (pipelining), keep-alive, and the timeouts that keep idle or trickling clients from
 * holding sockets forever. Whatever arrives, the connection answers or closes; it never throws.
 */
import type { Socket } from 'node:net';
import { describeRequestLine, KEPT_LINE_BYTES, RequestParser, type ParserLimits, type ParseOutput } from './parser.ts';
import { ResponseSlot, type SlotOwner } from './response.ts';
import { buildRequest, plainAddress, type SocketInfo } from './request.ts';
import type { HttpHandler, HttpRefusal, HttpRequest } from './types.ts';

export interface ConnectionOptions {
  limits: ParserLimits;
  /** A request head (and body) must be complete this long after its first byte. Beyond: 408 and close. */
  requestTimeoutMs: number;
  /** A keep-alive connection with nothing to do is closed after this long. */
  idleTimeoutMs: number;
  /** Most requests of one connection being handled at once; further pipelined bytes wait unread. */
  maxPipeline: number;
  /** A handler that returned without answering and without a promise gets this long, then a 500. */
  responseTimeoutMs: number;
  /**
   * Answer bytes a connection may hold unsent (in the socket's buffer plus answers waiting for earlier ones)
   * before it stops reading further requests; it reads on once the client took the answers ('drain').
   */
  maxBufferedOutput: number;
  onHandlerError(err: unknown, req: HttpRequest): void;
  /** Each answered request, for access metrics. */
  onResponse?(req: HttpRequest | undefined, status: number): void;
  /** A request refused here, before any handler saw it (to be kept as a rejected request). Must not throw. */
  onRefused?(refusal: HttpRefusal): void;
}

/** First byte of a TLS handshake record (a ClientHello: 0x16 0x03 …). */
const TLS_HANDSHAKE = 0x16;

/** The reason a TLS handshake on the plain-HTTP port is kept with. */
export const TLS_ON_PLAIN_PORT = 'TLS handshake on plain HTTP port';

/**
 * Where a connection is in its life; it only moves forward, in this order (any state may skip ahead):
 *   new         open, nothing received yet (the first bytes are checked for a TLS handshake)
 *   reading     requests are read and handed to the handler
 *   finishing   no more requests are read (an error was answered, a stream started, the client half-closed,
 *               a request timed out); the answers in hand go out, then the socket is ended
 *   draining    server shutdown: as finishing, and every answer still to be made says `Connection: close`
 *   ending      our side of the socket is ended; waiting for it to close
 *   closed      the socket is gone
 */
type ConnectionState = 'new' | 'reading' | 'finishing' | 'draining' | 'ending' | 'closed';

const ORDER: readonly ConnectionState[] = ['new', 'reading', 'finishing', 'draining', 'ending', 'closed'];

export class Connection implements SlotOwner {
  private readonly parser: RequestParser;
  private readonly slots: ResponseSlot[] = [];
  private readonly info: SocketInfo;
  private requestTimer: NodeJS.Timeout | undefined;
  private state: ConnectionState = 'new';
  // Three flags apart from the state: each comes and goes many times while the state stays the same.
  /** Backpressure: the socket is paused, the pipeline being full or the client not taking its answers. */
  private paused = false;
  /** Backpressure: reading on waits for the socket's 'drain' (set and cleared apart from `paused`). */
  private awaitingDrain = false;
  /** A drain is queued for the next turn of the event loop: finish() asks once however many answers end in a turn. */
  private drainScheduled = false;
  /** Bytes of answers waiting in slots behind an unfinished earlier one. */
  private queuedBytes = 0;
  private onGone: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly handler: HttpHandler,
    private readonly opts: ConnectionOptions,
  ) {
    this.parser = new RequestParser(opts.limits);
    this.info = {
      remoteAddress: plainAddress(socket.remoteAddress),
      localAddress: plainAddress(socket.localAddress),
      localPort: socket.localPort ?? 0,
      secure: 'encrypted' in socket && socket.encrypted === true,
    };
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('timeout', () => this.onIdle());
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
  }

  /** Moves to `next` unless the connection is already past it. */
  private advance(next: ConnectionState): void {
    if (ORDER.indexOf(next) > ORDER.indexOf(this.state)) this.state = next;
  }

  /** Requests are still read. */
  private get reading(): boolean {
    return this.state === 'new' || this.state === 'reading';
  }

  /** True when the connection will close after the current answers (server shutdown, or the socket is ending or gone). */
  get closing(): boolean {
    return this.state === 'draining' || this.state === 'ending' || this.state === 'closed';
  }

  get destroyed(): boolean {
    return this.state === 'closed';
  }

  /** Called once when the socket is gone. */
  whenGone(listener: () => void): void {
    this.onGone = listener;
  }

  /** Server shutdown: finish what is in hand, then close; idle connections close now. */
  shutdown(): void {
    this.advance('draining');
    for (const slot of [...this.slots]) slot.endStream();
    if (this.slots.length === 0) this.endSocket();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Nothing in hand: no request being read or answered (a keep-alive connection between requests, or one that sent nothing yet). */
  get idle(): boolean {
    return this.state !== 'ending' && this.state !== 'closed' && this.slots.length === 0 && this.parser.buffered === 0 && !this.parser.awaitingBody;
  }

  private onData(chunk: Buffer): void {
    if (!this.reading) return;
    if (this.state === 'new') {
      this.state = 'reading';
      // 0x16 opens a TLS handshake record; no HTTP request starts with it. Answer now instead of waiting for
      // a request line that never comes.
      if (!this.info.secure && chunk.length > 0 && chunk[0] === TLS_HANDSHAKE) return this.refuseTls();
    }
    this.parser.feed(chunk);
    this.drain();
  }

  /** Bytes of answers not yet taken by the client (socket buffer plus answers queued behind earlier ones). */
  get bufferedOutput(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  /** Too much unsent output: a client that pipelines requests but does not read gets no further answers made. */
  private outputFull(): boolean {
    return this.socket.writableLength + this.queuedBytes > this.opts.maxBufferedOutput;
  }

  private onDrain(): void {
    if (!this.awaitingDrain) return;
    this.awaitingDrain = false;
    this.drain();
  }

  private drain(): void {
    while (this.reading && this.slots.length < this.opts.maxPipeline && !this.outputFull()) {
      let out: ParseOutput | undefined;
      try {
        out = this.parser.next();
      } catch {
        out = { kind: 'error', status: 400, message: 'malformed request', httpVersion: 'HTTP/1.1' };
      }
      if (out === undefined) break;
      this.clearRequestTimer();
      if (out.kind === 'error') {
        this.advance('finishing');
        const slot = new ResponseSlot(this, 'GET', out.httpVersion, false);
        this.slots.push(slot);
        slot.send(out.status, `${out.message}\n`, { Connection: 'close' });
        this.opts.onResponse?.(undefined, out.status);
        this.refused(out.status, out.message, out.line ?? this.parser.firstLine());
        break;
      }
      this.dispatch(out);
    }
    const waiting = this.parser.awaitingBody;
    if (waiting?.expectContinue && !waiting.continueSent && this.slots.length === 0) {
      waiting.continueSent = true;
      this.socket.write(`${waiting.httpVersion} 100 Continue\r\n\r\n`);
    }
    if (this.reading && (this.parser.buffered > 0 || waiting)) this.armRequestTimer();
    let full = this.slots.length >= this.opts.maxPipeline;
    if (this.reading && this.outputFull()) {
      full = true;
      // 'drain' comes once the client took what the socket holds; answers still queued behind a slow handler
      // go out through finish(), which reads on (or waits for 'drain') then.
      if (this.socket.writableNeedDrain) this.awaitingDrain = true;
    }
    if (full && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private dispatch(parsed: Extract<ParseOutput, { kind: 'request' }>): void {
    const slot = new ResponseSlot(this, parsed.method, parsed.httpVersion, parsed.keepAlive && !this.closing);
    this.slots.push(slot);
    const req = buildRequest(parsed, this.info, performance.now());
    let result: void | Promise<void>;
    try {
      result = this.handler(req, slot);
    } catch (err) {
      this.fail(err, req, slot);
      this.done(req, slot);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => {
          if (!slot.sent) this.fail(new Error(`handler for ${req.method} ${req.path} returned without answering`), req, slot);
          this.done(req, slot);
        },
        (err) => {
          this.fail(err, req, slot);
          this.done(req, slot);
        },
      );
    } else if (!slot.sent) {
      // A plain function may answer from a callback later; give it time, then answer for it.
      const timer = setTimeout(() => {
        if (!slot.sent) this.fail(new Error(`handler for ${req.method} ${req.path} did not answer in time`), req, slot);
        this.done(req, slot);
      }, this.opts.responseTimeoutMs);
      timer.unref();
    } else {
      this.done(req, slot);
    }
  }

  /** A handler threw, rejected or never answered: report it, and answer 500 if nothing was sent. */
  private fail(err: unknown, req: HttpRequest, slot: ResponseSlot): void {
    this.opts.onHandlerError(err, req);
    if (!slot.sent) slot.send(500, 'internal error\n');
    else if (slot.streaming) slot.peerClosed();
  }

  private done(req: HttpRequest, slot: ResponseSlot): void {
    this.opts.onResponse?.(req, slot.status);
  }

  output(slot: ResponseSlot, data: Buffer): boolean {
    if (this.destroyed) return false;
    if (this.slots[0] === slot) return this.socket.write(data);
    slot.pending.push(data);
    this.queuedBytes += data.length;
    return true;
  }

  finish(slot: ResponseSlot): void {
    slot.finished = true;
    if (slot.streaming || slot.closeAfter) this.advance('finishing');
    while (this.slots.length > 0 && this.slots[0].finished) {
      const done = this.slots.shift()!;
      if (done.closeAfter || this.destroyed) {
        this.advance('finishing');
        for (const rest of this.slots) rest.peerClosed();
        this.slots.length = 0;
        this.queuedBytes = 0;
        this.endSocket();
        return;
      }
      const next = this.slots[0];
      if (next && next.pending.length > 0 && !this.destroyed) {
        for (const chunk of next.pending) {
          this.queuedBytes -= chunk.length;
          this.socket.write(chunk);
        }
        next.pending = [];
      }
    }
    if (this.slots.length === 0 && this.closing) {
      this.endSocket();
      return;
    }
    // Room again in the pipeline: read on (bytes may already be buffered, a body may be awaited, or reading
    // was paused). With none of that there is nothing to drain until the next bytes arrive. A connection
    // waiting for the client to take its answers reads on from 'drain' instead.
    if (this.reading && !this.awaitingDrain && (this.paused || this.parser.buffered > 0 || this.parser.awaitingBody)) this.drainSoon();
  }

  private drainSoon(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private onIdle(): void {
    if (this.slots.length > 0) return; // busy: a handler or a stream holds the connection
    if (this.parser.buffered > 0 || this.parser.awaitingBody) {
      this.timeoutRequest();
      return;
    }
    this.endSocket();
  }

  private armRequestTimer(): void {
    if (this.requestTimer) return;
    this.requestTimer = setTimeout(() => this.timeoutRequest(), this.opts.requestTimeoutMs);
    this.requestTimer.unref();
  }

  private clearRequestTimer(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }

  private timeoutRequest(): void {
    this.requestTimer = undefined;
    if (!this.reading) return;
    this.advance('finishing');
    const slot = new ResponseSlot(this, 'GET', 'HTTP/1.1', false);
    this.slots.push(slot);
    // A head that arrived whose body did not: that head's method and target; else the line so far.
    const pending = this.parser.awaitingBody;
    const line = pending ? undefined : this.parser.firstLine();
    slot.send(408, 'request timeout\n', { Connection: 'close' });
    this.opts.onResponse?.(undefined, 408);
    if (pending) this.report(408, 'request timeout', pending.method, pending.rawTarget.subarray(0, KEPT_LINE_BYTES));
    else this.refused(408, 'request timeout', line!);
  }

  /** A TLS client on the plain-HTTP port: a one-line answer it will not understand either way, and close. */
  private refuseTls(): void {
    this.advance('finishing');
    const slot = new ResponseSlot(this, 'GET', 'HTTP/1.1', false);
    this.slots.push(slot);
    slot.send(400, `${TLS_ON_PLAIN_PORT}: use http:// here, or serve HTTPS with --tls-cert\n`, { Connection: 'close' });
    this.opts.onResponse?.(undefined, 400);
    this.report(400, TLS_ON_PLAIN_PORT, '', Buffer.alloc(0));
  }

  private refused(status: number, reason: string, line: Buffer): void {
    if (!this.opts.onRefused) return;
    const { method, target } = describeRequestLine(line);
    this.report(status, reason, method, target);
  }

  private report(status: number, reason: string, method: string, target: Buffer): void {
    if (!this.opts.onRefused) return;
    try {
      this.opts.onRefused({ status, reason, method, rawTarget: target, remoteAddress: this.info.remoteAddress });
    } catch {
      // Keeping the refusal is best effort; the answer went out regardless.
    }
  }

  private onPeerEnd(): void {
    // The client finished sending (half-close): answer what is in hand, then close.
    this.advance('finishing');
    this.clearRequestTimer();
    // A stream client that closed its side is gone (EventSource never half-closes on purpose).
    for (const slot of [...this.slots]) if (slot.streaming) slot.endStream();
    if (this.slots.length === 0) this.endSocket();
    else this.slots[this.slots.length - 1].closeAfter = true;
  }

  private endSocket(): void {
    if (this.state === 'ending' || this.state === 'closed') return;
    this.state = 'ending';
    this.clearRequestTimer();
    this.socket.end();
    // A peer that never reads must not keep the socket: destroy it if it has not closed soon after.
    const t = setTimeout(() => this.socket.destroy(), 2000);
    t.unref();
  }

  private teardown(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearRequestTimer();
    for (const slot of this.slots) slot.peerClosed();
    this.slots.length = 0;
    this.queuedBytes = 0;
    this.socket.destroy();
    this.onGone?.();
  }
}
