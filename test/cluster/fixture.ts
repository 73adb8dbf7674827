/**
 * Several receivers on one real PostgreSQL (ACTIONURL_TEST_PG, default postgres://postgres@127.0.0.1:5432/test),
 * each test in a schema of its own that is dropped afterwards, plus a TCP proxy in front of PostgreSQL that a
 * test can cut (every connection closed, new ones refused) to take the database away without stopping it.
 */
import { after, before } from 'node:test';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServer, type RunningServer, type ServerOptions } from '../../src/start.ts';
import { sendRaw } from '../server/helpers/raw-client.ts';

export const BASE = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Connects the admin client. These tests are about PostgreSQL: when it cannot be reached they fail (on CI
 * and off it), with the reason.
 */
export async function connectAdmin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: BASE });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new Error(`PostgreSQL at ${BASE.replace(/\/\/[^@/]*@/, '//…@')} cannot be reached (${(err as Error).message}); set ACTIONURL_TEST_PG or start it`, { cause: err });
  }
  return client;
}

export function freshSchema(): string {
  return `au_cluster_${randomBytes(6).toString('hex')}`;
}

/** One test file's way into PostgreSQL: the admin connection, and schemas that are dropped after the file. */
export interface ClusterDatabase {
  /** Connected before the file's tests run. */
  readonly admin: pg.Client;
  /** A fresh schema name, dropped (with whatever a receiver made in it) after the file's tests. */
  schema(): string;
}

/** Call at the top level of a test file: connects before its tests (failing when PostgreSQL is away), cleans up after. */
export function useClusterDatabase(): ClusterDatabase {
  let admin: pg.Client | undefined;
  const schemas: string[] = [];
  before(async () => {
    admin = await connectAdmin();
  });
  after(async () => {
    if (!admin) return;
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });
  return {
    get admin() {
      if (!admin) throw new Error('the admin connection is made before the tests run');
      return admin;
    },
    schema() {
      const s = freshSchema();
      schemas.push(s);
      return s;
    },
  };
}

/** The database URL with a schema (and optionally another host:port, e.g. a proxy's). */
export function dbUrl(schema: string, port?: number, appName?: string): string {
  const u = new URL(BASE);
  if (port !== undefined) {
    u.hostname = '127.0.0.1';
    u.port = String(port);
  }
  u.searchParams.set('schema', schema);
  if (appName) u.searchParams.set('application_name', appName);
  return u.toString();
}

export interface Proxy {
  port: number;
  /** Closes every connection through the proxy and refuses new ones until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startProxy(): Promise<Proxy> {
  const target = new URL(BASE);
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      refusing = false;
    },
    async close() {
      refusing = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Receivers {
  servers: RunningServer[];
  dir: string;
  close(): Promise<void>;
}

/** Starts `n` receivers in this process on the same database, each with its own journal. */
export async function startReceivers(n: number, db: string, options: ServerOptions = {}): Promise<Receivers> {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-cluster-'));
  const servers: RunningServer[] = [];
  try {
    // Started together: their migrations race, as on a real deployment.
    servers.push(
      ...(await Promise.all(
        Array.from({ length: n }, (_, i) =>
          startServer({ db, journal: join(dir, `journal-${i}.sqlite`), port: 0, host: '127.0.0.1', logLevel: 'silent', followPollMs: 500, ...options }),
        ),
      )),
    );
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    servers,
    dir,
    async close() {
      await Promise.all(servers.map((s) => s.close().catch(() => {})));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One Action URL request; resolves with the HTTP status (0 when the connection failed). */
export async function ingest(port: number, target: string): Promise<number> {
  try {
    const { responses } = await sendRaw(port, `GET ${target} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    return responses[0]?.status ?? 0;
  } catch {
    return 0;
  }
}

export async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
