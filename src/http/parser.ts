/**
 * A lenient, incremental HTTP/1.x request parser.
 *
 * Phones put raw spaces and raw UTF-8 or Latin-1 bytes into the request line, may send HTTP/1.0, and may
 * leave out Host. Node's parser refuses all of that, so we parse ourselves: the target is every byte between
 * the first space and the last ` HTTP/1.x`, kept as bytes. Anything else that is not HTTP gets an error
 * with a status code (400, 414, 431, 413, 501) and the connection is closed after that answer.
 *
 * Pure: no sockets, no timers. The connection feeds bytes in and takes complete requests out.
 */

export interface ParserLimits {
  /** Largest request head (request line plus headers), bytes. Beyond: 431. */
  maxHeadBytes: number;
  /** Longest request target, bytes. Beyond: 414. */
  maxTargetBytes: number;
  /** Largest Content-Length accepted. Beyond: 413. */
  maxBodyBytes: number;
  /** Most header lines. Beyond: 431. */
  maxHeaders: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxHeadBytes: 16 * 1024,
  // Phones cap an Action URL at 511 characters; 8 KiB leaves room for proxies and hand-made requests.
  maxTargetBytes: 8 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxHeaders: 100,
};

export interface ParsedRequest {
  kind: 'request';
  method: string;
  rawTarget: Buffer;
  httpVersion: 'HTTP/1.0' | 'HTTP/1.1';
  headers: Record<string, string>;
  body: Buffer;
  /** Whether the client wants the connection kept open after the answer. */
  keepAlive: boolean;
}

export interface ParseError {
  kind: 'error';
  status: 400 | 413 | 414 | 431 | 501;
  message: string;
  /** The version to answer in, when the request line got that far. */
  httpVersion: 'HTTP/1.0' | 'HTTP/1.1';
  /** The request line as far as it arrived, at most KEPT_LINE_BYTES (for the rejected-requests log). */
  line?: Buffer;
}

/** Most bytes of a refused request line that are kept. */
export const KEPT_LINE_BYTES = 1024;

/**
 * The method and target of a request line as far as they can be told apart: the method is the first word
 * when it looks like one, the target what follows up to ` HTTP/1.x` (or the end); otherwise the whole line.
 */
export function describeRequestLine(line: Buffer): { method: string; target: Buffer } {
  const space = line.indexOf(SP);
  if (space <= 0 || space > 32 || !isToken(line, 0, space)) return { method: '', target: line };
  const mark = line.lastIndexOf(VERSION_MARK);
  const end = mark > space && mark + VERSION_MARK.length + 1 === line.length ? mark : line.length;
  return { method: line.toString('latin1', 0, space), target: line.subarray(space + 1, end) };
}

/** Names of the headers that decide where a request ends: never guessed at (request smuggling). */
const FRAMING = /^\s*(content-length|transfer-encoding)\s*$/i;

/** A malformed header line whose name, spaces aside, is Content-Length or Transfer-Encoding. */
function namesFraming(line: Buffer): boolean {
  const colon = line.indexOf(COLON);
  return colon > 0 && FRAMING.test(line.toString('latin1', 0, colon));
}

export type ParseOutput = ParsedRequest | ParseError;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

// RFC 9110 tchar: what a method or header name may consist of.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function isToken(bytes: Buffer, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

const VERSION_MARK = Buffer.from(' HTTP/1.', 'latin1');

export interface PendingHead {
  method: string;
  rawTarget: Buffer;
  httpVersion: 'HTTP/1.0' | 'HTTP/1.1';
  headers: Record<string, string>;
  keepAlive: boolean;
  contentLength: number;
  /** `Expect: 100-continue` with a body to come; the connection answers `100 Continue` once. */
  expectContinue: boolean;
  continueSent?: boolean;
}

export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the search for the end of the head resumes (bytes before it hold no blank line). */
  private scanFrom = 0;
  private head: PendingHead | undefined;
  private failed = false;

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** Bytes received and not yet part of a returned request. */
  get buffered(): number {
    return this.buf.length;
  }

  /** True while a head was parsed and its body is still arriving (100-continue is decided on this). */
  get awaitingBody(): PendingHead | undefined {
    return this.head;
  }

  feed(chunk: Buffer): void {
    if (this.failed) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next complete request or error, or undefined when more bytes are needed. After an error: nothing more. */
  next(): ParseOutput | undefined {
    if (this.failed) return undefined;
    if (!this.head) {
      const out = this.parseHead();
      if (out === undefined) return undefined;
      if (out.kind === 'error') return this.fail(out);
      this.head = out.head;
    }
    const head = this.head;
    if (this.buf.length < head.contentLength) return undefined;
    const body = head.contentLength === 0 ? EMPTY : Buffer.from(this.buf.subarray(0, head.contentLength));
    this.consume(head.contentLength);
    this.head = undefined;
    return {
      kind: 'request',
      method: head.method,
      rawTarget: head.rawTarget,
      httpVersion: head.httpVersion,
      headers: head.headers,
      body,
      keepAlive: head.keepAlive,
    };
  }

  private fail(err: ParseError): ParseError {
    this.failed = true;
    err.line ??= this.firstLine();
    this.buf = EMPTY;
    return err;
  }

  /** The first line of what is buffered (a request line in the making), a copy of at most KEPT_LINE_BYTES. */
  firstLine(): Buffer {
    const b = this.buf;
    let start = 0;
    while (start < b.length && (b[start] === CR || b[start] === LF)) start++;
    let end = b.indexOf(LF, start);
    if (end === -1) end = b.length;
    if (end > start && b[end - 1] === CR) end--;
    return Buffer.from(b.subarray(start, Math.min(end, start + KEPT_LINE_BYTES)));
  }

  private consume(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.scanFrom = 0;
  }

  private parseHead(): { kind: 'head'; head: PendingHead } | ParseError | undefined {
    // Robustness (RFC 9112 §2.2): empty lines before a request line are ignored.
    let skip = 0;
    while (skip < this.buf.length && (this.buf[skip] === CR || this.buf[skip] === LF)) skip++;
    if (skip > 0) this.consume(skip);
    if (this.buf.length === 0) return undefined;

    const end = this.findHeadEnd();
    if (end === undefined) {
      const firstLf = this.buf.indexOf(LF);
      const lineLen = firstLf === -1 ? this.buf.length : firstLf;
      if (lineLen > this.limits.maxTargetBytes + 64) return err(414, 'request target too long');
      if (this.buf.length > this.limits.maxHeadBytes) return err(431, 'request head too large');
      return undefined;
    }
    if (end.headEnd > this.limits.maxHeadBytes) return err(431, 'request head too large');
    const head = this.buf.subarray(0, end.headEnd);
    const parsed = parseHeadBytes(head, this.limits);
    if ('kind' in parsed) return parsed;
    this.consume(end.bodyStart);
    return { kind: 'head', head: parsed };
  }

  /** End of the head: a blank line, written CRLF CRLF or, leniently, LF LF / LF CRLF. */
  private findHeadEnd(): { headEnd: number; bodyStart: number } | undefined {
    const b = this.buf;
    let i = b.indexOf(LF, this.scanFrom);
    while (i !== -1) {
      if (i + 1 < b.length && b[i + 1] === LF) return { headEnd: i, bodyStart: i + 2 };
      if (i + 2 < b.length && b[i + 1] === CR && b[i + 2] === LF) return { headEnd: i, bodyStart: i + 3 };
      if (i + 2 >= b.length) {
        // The blank line may still be arriving: resume the search at this LF next time.
        this.scanFrom = i;
        return undefined;
      }
      i = b.indexOf(LF, i + 1);
    }
    this.scanFrom = Math.max(0, b.length - 2);
    return undefined;
  }
}

const EMPTY = Buffer.alloc(0);

function err(status: ParseError['status'], message: string, httpVersion: ParseError['httpVersion'] = 'HTTP/1.1'): ParseError {
  return { kind: 'error', status, message, httpVersion };
}

/** Lines of the head, each without its CR LF. */
function splitLines(head: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start <= head.length) {
    let lf = head.indexOf(LF, start);
    if (lf === -1) lf = head.length;
    const end = lf > start && head[lf - 1] === CR ? lf - 1 : lf;
    lines.push(head.subarray(start, end));
    start = lf + 1;
  }
  return lines;
}

function parseHeadBytes(head: Buffer, limits: ParserLimits): PendingHead | ParseError {
  const lines = splitLines(head);
  const line = lines[0];

  const firstSpace = line.indexOf(SP);
  if (firstSpace <= 0 || !isToken(line, 0, firstSpace)) return err(400, 'malformed request line');
  const method = line.toString('latin1', 0, firstSpace);

  const mark = line.lastIndexOf(VERSION_MARK);
  if (mark <= firstSpace || mark + VERSION_MARK.length + 1 !== line.length) {
    return err(400, 'malformed request line: expected "<method> <target> HTTP/1.x"');
  }
  const minor = line[line.length - 1];
  if (minor < 0x30 || minor > 0x39) return err(400, 'malformed request line: unknown HTTP version');
  const httpVersion = minor === 0x30 ? 'HTTP/1.0' : 'HTTP/1.1';

  const rawTarget = Buffer.from(line.subarray(firstSpace + 1, mark));
  if (rawTarget.length === 0) return err(400, 'empty request target', httpVersion);
  if (rawTarget.length > limits.maxTargetBytes) return err(414, 'request target too long', httpVersion);

  if (lines.length - 1 > limits.maxHeaders) return err(431, 'too many header lines', httpVersion);
  // Header names are the client's: a plain object would take `__proto__` as its prototype and answer
  // `constructor` or `toString` with Object.prototype's functions. Without a prototype every name is data.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let last: string | undefined;
  for (let n = 1; n < lines.length; n++) {
    const h = lines[n];
    if (h.length === 0) continue;
    if (h[0] === SP || h[0] === HTAB) {
      // Obsolete line folding: the line continues the previous header's value (or, first, is skipped).
      if (last === undefined) {
        if (namesFraming(h)) return err(400, 'malformed header line', httpVersion);
        continue;
      }
      if (last === 'content-length' || last === 'transfer-encoding') return err(400, 'malformed header line', httpVersion);
      headers[last] = `${headers[last]} ${h.toString('latin1').trim()}`.trim();
      continue;
    }
    const colon = h.indexOf(COLON);
    if (colon <= 0 || !isToken(h, 0, colon)) {
      // A line that is not a header: phones' requests matter more than strictness, so it is skipped, unless
      // it could be meant to say where the request ends ("Content-Length : 5"), which is never guessed.
      if (namesFraming(h)) return err(400, 'malformed header line', httpVersion);
      last = undefined;
      continue;
    }
    const name = h.toString('latin1', 0, colon).toLowerCase();
    const value = h.toString('latin1', colon + 1).trim();
    headers[name] = headers[name] !== undefined ? `${headers[name]}, ${value}` : value;
    last = name;
  }

  const te = headers['transfer-encoding'];
  if (te !== undefined && te.toLowerCase() !== 'identity') {
    return err(501, 'transfer-encoding is not supported; send a Content-Length body', httpVersion);
  }
  let contentLength = 0;
  const cl = headers['content-length'];
  if (cl !== undefined) {
    // Repeated identical values ("5, 5") are tolerated; anything else is request smuggling territory.
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const only = values.size === 1 ? [...values][0] : '';
    if (!/^\d{1,15}$/.test(only)) return err(400, 'invalid Content-Length', httpVersion);
    contentLength = Number(only);
    if (contentLength > limits.maxBodyBytes) return err(413, 'request body too large', httpVersion);
  }

  const connection = (headers.connection ?? '').toLowerCase();
  const keepAlive =
    httpVersion === 'HTTP/1.1' ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  const expectContinue = contentLength > 0 && (headers.expect ?? '').toLowerCase() === '100-continue';
  return { method, rawTarget, httpVersion, headers, keepAlive, contentLength, expectContinue };
}
