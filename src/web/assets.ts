/**
 * The dashboard's static files (`src/web/static/`), read once when the handler is created: they ship inside
 * the package and never change while the receiver runs.
 *
 * Caching without a build step: the app shell refers to every asset under `/static/<version>/…`, where the
 * version is a hash of all asset contents. Relative ES module imports inherit that prefix, so a browser can
 * keep assets forever (`immutable`) and still picks up a new release on its next page load, because the shell
 * itself is always revalidated.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { contentTypeFor } from './headers.ts';

export interface Asset {
  readonly body: Buffer;
  /** Gzipped body, when that is smaller. */
  readonly gzip?: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface AssetSet {
  /** Hash of every asset: the `<version>` path segment. */
  readonly version: string;
  /** By file name (`app.js`, `views/board.js`). */
  readonly files: ReadonlyMap<string, Asset>;
}

export const STATIC_DIR = join(import.meta.dirname, 'static');

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

export function makeAsset(name: string, body: Buffer): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const compressible = !/\.(png|ico)$/i.test(name) && body.length > 512;
  const gz = compressible ? gzipSync(body, { level: 9 }) : undefined;
  return { body, contentType: contentTypeFor(name), etag, ...(gz && gz.length < body.length ? { gzip: gz } : {}) };
}

/** Reads the static folder. `index.html` gets its `/static/` references pinned to the version. */
export function loadAssets(dir: string = STATIC_DIR): AssetSet {
  const raw = new Map<string, Buffer>();
  for (const name of listFiles(dir)) raw.set(name, readFileSync(join(dir, name)));
  const hash = createHash('sha256');
  for (const [name, body] of raw) hash.update(name).update('\0').update(body).update('\0');
  const version = hash.digest('hex').slice(0, 12);
  const files = new Map<string, Asset>();
  for (const [name, body] of raw) {
    const pinned = name.endsWith('.html')
      ? Buffer.from(body.toString('utf8').replaceAll('"/static/', `"/static/${version}/`))
      : body;
    files.set(name, makeAsset(name, pinned));
  }
  return { version, files };
}
