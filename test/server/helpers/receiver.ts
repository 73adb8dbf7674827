/**
 * A receiver on a temporary database for tests, plus small clients: `ingest` sends an exact request line
 * (raw spaces and all), `api` fetches JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/start.ts';
import { sendRaw, type RawResponse } from './raw-client.ts';

export interface TestReceiver {
  server: RunningServer;
  port: number;
  dir: string;
  db: string;
  /** GET <target> over a raw socket; the target goes out byte for byte. */
  ingest(target: string | Buffer, headers?: string): Promise<RawResponse>;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the server (the directory stays until cleanup). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startTestReceiver(options: ServerOptions = {}, existingDir?: string): Promise<TestReceiver> {
  const dir = existingDir ?? mkdtempSync(join(tmpdir(), 'actionurl-recv-'));
  const db = join(dir, 'db.sqlite');
  const server = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent', ...options });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    server,
    port: server.port,
    dir,
    db,
    async ingest(target, headers = '') {
      const bytes = typeof target === 'string' ? Buffer.from(target, 'utf8') : target;
      const req = Buffer.concat([Buffer.from('GET '), bytes, Buffer.from(` HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`)]);
      const { responses } = await sendRaw(server.port, req);
      if (responses.length !== 1) throw new Error(`expected one answer, got ${responses.length}`);
      return responses[0];
    },
    async api(path, init) {
      const res = await fetch(`${server.url}${path}`, init);
      const text = await res.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, headers: res.headers };
    },
    stop,
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
