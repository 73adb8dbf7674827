/**
 * An incremental HTTP/1.x response reader: enough to know the status and where the response ends, so a
 * kept-alive socket can carry the next request. Bodies are skipped, not kept (phones ignore them).
 */

export interface ParsedResponse {
  status: number;
  /** The server will close the connection (or the body ends with the connection). */
  close: boolean;
}

const MAX_HEAD = 64 * 1024;

export class ResponseReader {
  private head: Buffer = Buffer.alloc(0);
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'until-close' | 'done' = 'head';
  private remaining = 0;
  private line = '';
  response: ParsedResponse | undefined;

  constructor(private readonly forHead = false) {}

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feeds bytes; returns true once the response is complete. Throws on a malformed response. */
  push(chunk: Buffer): boolean {
    let buf = chunk;
    while (buf.length > 0 && this.state !== 'done') {
      switch (this.state) {
        case 'head': {
          this.head = this.head.length ? Buffer.concat([this.head, buf]) : buf;
          const end = this.head.indexOf('\r\n\r\n');
          if (end === -1) {
            if (this.head.length > MAX_HEAD) throw new Error('response head too large');
            return false;
          }
          const rest = this.head.subarray(end + 4);
          this.parseHead(this.head.subarray(0, end).toString('latin1'));
          buf = rest;
          break;
        }
        case 'length': {
          const take = Math.min(this.remaining, buf.length);
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining === 0) this.state = 'done';
          break;
        }
        case 'chunk-size':
        case 'trailer':
        case 'chunk-crlf': {
          const nl = buf.indexOf('\n');
          if (nl === -1) {
            this.line += buf.toString('latin1');
            if (this.line.length > 4096) throw new Error('chunk line too long');
            return false;
          }
          const line = (this.line + buf.subarray(0, nl).toString('latin1')).replace(/\r$/, '');
          this.line = '';
          buf = buf.subarray(nl + 1);
          this.onLine(line);
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, buf.length);
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining === 0) this.state = 'chunk-crlf';
          break;
        }
        case 'until-close':
          return false;
      }
    }
    return this.state === 'done';
  }

  /** The connection closed: complete if the body runs to the close. */
  end(): boolean {
    if (this.state === 'until-close') this.state = 'done';
    return this.state === 'done';
  }

  private onLine(line: string): void {
    if (this.state === 'chunk-crlf') {
      this.state = 'chunk-size';
      return;
    }
    if (this.state === 'trailer') {
      if (line === '') this.state = 'done';
      return;
    }
    const size = parseInt(line.split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
    if (size === 0) this.state = 'trailer';
    else {
      this.remaining = size;
      this.state = 'chunk-data';
    }
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]);
    if (!m) throw new Error(`not an HTTP response: "${lines[0].slice(0, 60)}"`);
    const status = Number(m[2]);
    let length: number | undefined;
    let chunked = false;
    let close = m[1] === '0';
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      if (colon <= 0) continue;
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').map((v) => v.trim()).includes('chunked');
      else if (name === 'connection') {
        if (value.includes('close')) close = true;
        else if (value.includes('keep-alive')) close = false;
      }
    }
    if (status === 100) {
      // An interim response: the real one follows.
      this.head = Buffer.alloc(0);
      return;
    }
    const noBody = this.forHead || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (noBody) this.state = 'done';
    else if (chunked) this.state = 'chunk-size';
    else if (length !== undefined && Number.isFinite(length) && length >= 0) this.state = length === 0 ? 'done' : 'length';
    else {
      this.state = 'until-close';
      close = true;
    }
    this.remaining = length ?? 0;
    this.response = { status, close };
  }
}
