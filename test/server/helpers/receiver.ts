/**
 * A receiver on a temporary database for tests, plus small clients: `ingest` sends an exact request line
 * (raw spaces and all), `api` fetches JSON. `storeKind: 'postgres'` puts it on a fresh schema of the test
 * PostgreSQL instead of a SQLite file (the schema's name is kept in the directory, so a receiver started
 * again on the same directory finds the same data, as on SQLite); see `testStores` for running a test on both.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/start.ts';
import { sendRaw, type RawResponse } from './raw-client.ts';
import { dropSchemas, pgUrl, testSchema, type StoreKind } from '../../store/pg-optional.ts';

export interface TestReceiverOptions extends ServerOptions {
  /** Which store the receiver runs on (default SQLite). */
  storeKind?: StoreKind;
}

export interface TestReceiver {
  server: RunningServer;
  port: number;
  dir: string;
  /** The store it runs on. */
  store: StoreKind;
  /** The SQLite file, or the PostgreSQL URL with its schema. */
  db: string;
  /** GET <target> over a raw socket; the target goes out byte for byte. */
  ingest(target: string | Buffer, headers?: string): Promise<RawResponse>;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the server (the directory stays until cleanup). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The schema of the PostgreSQL store that belongs to a test directory (made on first use). */
function schemaOf(dir: string): string {
  const file = join(dir, 'pg-schema');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const schema = testSchema('au_recv');
  writeFileSync(file, schema);
  return schema;
}

export async function startTestReceiver(options: TestReceiverOptions = {}, existingDir?: string): Promise<TestReceiver> {
  const { storeKind: store = 'sqlite', ...serverOptions } = options;
  const dir = existingDir ?? mkdtempSync(join(tmpdir(), 'actionurl-recv-'));
  const db = store === 'postgres' ? pgUrl(schemaOf(dir)) : join(dir, 'db.sqlite');
  const server = await startServer({ db, port: 0, host: '127.0.0.1', logLevel: 'silent', ...serverOptions });
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
    store,
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
      if (store === 'postgres' && existsSync(join(dir, 'pg-schema'))) await dropSchemas([schemaOf(dir)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
