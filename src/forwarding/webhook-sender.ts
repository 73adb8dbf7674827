/**
 * One webhook attempt: POST the body with its signature headers, wait for the status (at most the
 * destination's timeout), and judge it (see schedule.ts: 2xx delivered, 3xx never followed, 410 gone,
 * 429/502/503/504 with Retry-After). The answer's body is read and dropped, up to 64 KiB (more: the
 * connection is closed), so the connection can be reused.
 *
 * Why undici and not node:http: every forwarded event is one request, on the same CPU that takes the phones'
 * requests. Measured side by side (keep-alive, 8 at once, a 1 KB body): node:http's client about 65 µs of CPU
 * per request, undici's pool about 30 µs. One pool (up to 16 keep-alive connections) per destination.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { WebhookDestination } from './destinations.ts';
import { judgeResponse, type AttemptVerdict } from './schedule.ts';
import { signatureHeaders } from './signing.ts';

export interface AttemptResult {
  verdict: AttemptVerdict;
  /** HTTP status, null when there was no answer. */
  status: number | null;
}

const MAX_ANSWER_BYTES = 64 * 1024;
const CONNECTIONS = 16;

export class WebhookSender {
  private readonly pool: Pool;
  private readonly path: string;
  /** `https://user:pass@host/…`: sent as HTTP Basic, as node:http did with the URL's credentials. */
  private readonly authorization: string | undefined;

  constructor(
    private readonly dest: WebhookDestination,
    private readonly now: () => number = Date.now,
  ) {
    const url = new URL(dest.url);
    this.path = `${url.pathname}${url.search}`;
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    this.pool = new Pool(url.origin, {
      connections: CONNECTIONS,
      pipelining: 1,
      headersTimeout: dest.timeoutMs,
      bodyTimeout: dest.timeoutMs,
      connectTimeout: dest.timeoutMs,
    });
    // A destination that goes away surfaces as each request's error; the pool itself must never throw.
    this.pool.on('connectionError', () => {});
  }

  async send(id: string, text: string): Promise<AttemptResult> {
    const timestamp = Math.floor(this.now() / 1000);
    // Encoded once: undici would encode the text itself, and each signature again.
    const body = Buffer.from(text);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'actionurl-webhooks',
      ...signatureHeaders(this.dest.secret, id, timestamp, body),
    };
    if (this.authorization) headers.authorization = this.authorization;
    try {
      const res = await this.pool.request({ path: this.path, method: 'POST', headers, body, maxRedirections: 0 });
      const status = res.statusCode;
      const retryAfter = res.headers['retry-after'];
      // An answer body beyond the limit closes the connection; an error while reading it changes nothing.
      await res.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => {});
      return { verdict: judgeResponse(status, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.now()), status };
    } catch (err) {
      return { verdict: { kind: 'retry', reason: this.reasonOf(err) }, status: null };
    }
  }

  private reasonOf(err: unknown): string {
    if (
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError ||
      err instanceof undiciErrors.ConnectTimeoutError
    ) {
      return `no answer within ${this.dest.timeoutMs / 1000} s`;
    }
    const e = err as NodeJS.ErrnoException;
    return e.code && !e.code.startsWith('UND_ERR') ? `${e.code}: ${e.message}` : e.message ?? String(err);
  }

  close(): void {
    // Ends attempts in flight (they fail, and stay pending for the next start).
    void this.pool.destroy().catch(() => {});
  }
}
