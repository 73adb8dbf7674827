/**
 * One webhook attempt: POST the body with its signature headers, wait for the status (at most the
 * destination's timeout), and judge it (see schedule.ts: 2xx delivered, 3xx never followed, 410 gone,
 * 429/502/503/504 with Retry-After). The answer's body is read and dropped, up to 64 KiB, so the connection
 * can be reused; keep-alive sockets per destination.
 */
import http from 'node:http';
import https from 'node:https';
import type { WebhookDestination } from './destinations.ts';
import { judgeResponse, type AttemptVerdict } from './schedule.ts';
import { signatureHeaders } from './signing.ts';

export interface AttemptResult {
  verdict: AttemptVerdict;
  /** HTTP status, null when there was no answer. */
  status: number | null;
}

const MAX_ANSWER_BYTES = 64 * 1024;

export class WebhookSender {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    private readonly dest: WebhookDestination,
    private readonly now: () => number = Date.now,
  ) {
    this.url = new URL(dest.url);
    const options = { keepAlive: true, maxSockets: 16 };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  send(id: string, body: string): Promise<AttemptResult> {
    const timestamp = Math.floor(this.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'actionurl-webhooks',
      ...signatureHeaders(this.dest.secret, id, timestamp, body),
    };
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve) => {
      let settled = false;
      const done = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const req = request(this.url, { method: 'POST', headers, agent: this.agent, timeout: this.dest.timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = res.headers['retry-after'];
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on('error', () => {});
        res.on('close', () => done({ verdict: judgeResponse(status, retryAfter, this.now()), status }));
      });
      req.setTimeout(this.dest.timeoutMs, () => req.destroy(new Error(`no answer within ${this.dest.timeoutMs / 1000} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const reason = err.code ? `${err.code}: ${err.message}` : err.message;
        done({ verdict: { kind: 'retry', reason }, status: null });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
