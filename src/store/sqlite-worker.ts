/**
 * The SQLite writer thread. Messages: `{ n, op: 'write', batch }`, `{ n, op: 'prune', cutoff, batchSize }`,
 * `{ n, op: 'putControl', row }`, `{ n, op: 'deleteControl', mac }` (remote-control settings),
 * `{ n, op: 'putCommands', rows }`, `{ n, op: 'abandonCommands', query }`, `{ n, op: 'trimCommands', keep }`
 * (remote-control commands),
 * `{ n, op: 'deliveries', updates }`, `{ n, op: 'retry', id, now }`, `{ n, op: 'kill', destination, reason, now }`
 * (forwarding outbox), `{ n, op: 'settings' }` (this connection's durability settings, see `WriterSettings`),
 * `{ n, op: 'close' }`; each is answered `{ n, ok: true, value }` or `{ n, ok: false, error }` once its
 * transaction committed (or failed). Messages are handled one at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configureConnection, SqliteWriter, writerSettings, type EncodedBatch, type WriteTotals } from './sqlite-writes.ts';
import { SqliteCommandWriter } from './sqlite-commands.ts';
import type { AbandonCommands, DeliveryUpdate, StoredCommand, StoredControl } from './types.ts';
import { nameThisThread } from './thread-name.ts';

type Request =
  | { n: number; op: 'write'; batch: EncodedBatch }
  | { n: number; op: 'prune'; cutoff: number; batchSize: number }
  | { n: number; op: 'putControl'; row: StoredControl }
  | { n: number; op: 'deleteControl'; mac: string }
  | { n: number; op: 'putCommands'; rows: StoredCommand[] }
  | { n: number; op: 'abandonCommands'; query: AbandonCommands }
  | { n: number; op: 'trimCommands'; keep: number }
  | { n: number; op: 'maxPages'; pages: number }
  | { n: number; op: 'deliveries'; updates: DeliveryUpdate[] }
  | { n: number; op: 'retry'; id: number; now: number }
  | { n: number; op: 'kill'; destination: string; reason: string; now: number }
  | { n: number; op: 'settings' }
  | { n: number; op: 'close' };

const { file, synchronous, totals } = workerData as { file: string; synchronous: 'FULL' | 'NORMAL'; totals: WriteTotals };
nameThisThread('sqlite-writer');
const db = new Database(file);
configureConnection(db, synchronous);
const writer = new SqliteWriter(db, totals);
const commands = new SqliteCommandWriter(db);

parentPort!.on('message', (msg: Request) => {
  try {
    let value: unknown;
    if (msg.op === 'write') {
      value = writer.write(msg.batch);
    } else if (msg.op === 'prune') {
      value = writer.prune(msg.cutoff, msg.batchSize);
    } else if (msg.op === 'putControl') {
      writer.putControl(msg.row);
    } else if (msg.op === 'deleteControl') {
      writer.deleteControl(msg.mac);
    } else if (msg.op === 'putCommands') {
      commands.putCommands(msg.rows);
    } else if (msg.op === 'abandonCommands') {
      value = commands.abandonCommands(msg.query);
    } else if (msg.op === 'trimCommands') {
      value = commands.trimCommands(msg.keep);
    } else if (msg.op === 'maxPages') {
      value = db.pragma(`max_page_count = ${Math.floor(msg.pages)}`, { simple: true });
    } else if (msg.op === 'deliveries') {
      writer.updateDeliveries(msg.updates);
    } else if (msg.op === 'retry') {
      value = writer.retryDelivery(msg.id, msg.now);
    } else if (msg.op === 'kill') {
      value = writer.killDeliveries(msg.destination, msg.reason, msg.now);
    } else if (msg.op === 'settings') {
      value = writerSettings(db);
    } else {
      db.close();
      parentPort!.postMessage({ n: msg.n, ok: true, value: null });
      parentPort!.close();
      return;
    }
    parentPort!.postMessage({ n: msg.n, ok: true, value });
  } catch (err) {
    // The SQLite code (SQLITE_FULL, …) goes along: the receiver answers a full disk differently.
    const code = (err as { code?: unknown }).code;
    parentPort!.postMessage({ n: msg.n, ok: false, error: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) });
  }
});
parentPort!.postMessage({ ready: true });
