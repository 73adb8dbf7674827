/**
 * A SQLite reader thread: its own read-only connection (WAL lets it read while the writer commits), answering
 * `{ n, op, args }` with `SqliteReads[op](...args)` as `{ n, ok: true, value }` or `{ n, ok: false, error }`.
 * A query that takes long holds up this thread only, never the receiver's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteReads, type ReadOp } from './sqlite-reads.ts';
import { nameThisThread } from './thread-name.ts';

const { file } = workerData as { file: string };
nameThisThread('sqlite-reader');
const db = new Database(file, { readonly: true, fileMustExist: true });
// The writer may be in the middle of a commit or a checkpoint: wait for it rather than fail the read.
db.pragma('busy_timeout = 5000');
// A page cache of its own (32 MB): the hot pages of a big log's indexes stay in it between reads.
db.pragma('cache_size = -32768');
const reads = new SqliteReads(db);

parentPort!.on('message', async (msg: { n: number; op: ReadOp; args: unknown[] }) => {
  try {
    // The report sums answer with a promise (their SQL is shared with PostgreSQL's async client); the rest at once.
    const value = await (reads[msg.op] as (...args: unknown[]) => unknown)(...msg.args);
    parentPort!.postMessage({ n: msg.n, ok: true, value });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    parentPort!.postMessage({ n: msg.n, ok: false, error: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) });
  }
});
parentPort!.postMessage({ ready: true });
