/**
 * Remote-control commands in SQLite: the writes (run on the writer thread, or inline for `:memory:`) and
 * the reads (on the reading connection).
 */
import type Database from 'better-sqlite3';
import { commandFromRow, commandValues, PUT_COMMAND_SQL, SELECT_COMMAND_SQL, type CommandRow } from './command-rows.ts';
import type { AbandonCommands, StoredCommand } from './types.ts';

export class SqliteCommandWriter {
  private readonly put: Database.Statement;
  private readonly abandonAll: Database.Statement;
  private readonly abandonLate: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly putTx: (rows: readonly StoredCommand[]) => void;

  constructor(db: Database.Database) {
    this.put = db.prepare(PUT_COMMAND_SQL);
    const abandon = "UPDATE commands SET status = 'failed', reason = ?, finished_at = ? WHERE finished_at IS NULL AND owner <> ?";
    this.abandonAll = db.prepare(abandon);
    this.abandonLate = db.prepare(`${abandon} AND deadline_at < ?`);
    this.trim = db.prepare('DELETE FROM commands WHERE seq <= (SELECT max(seq) FROM commands) - ?');
    this.putTx = db.transaction((rows: readonly StoredCommand[]) => {
      for (const row of rows) this.put.run(...commandValues(row));
    });
  }

  putCommands(rows: readonly StoredCommand[]): void {
    this.putTx(rows);
  }

  abandonCommands(q: AbandonCommands): number {
    return q.deadlineBefore === undefined
      ? this.abandonAll.run(q.reason, q.now, q.notOwner).changes
      : this.abandonLate.run(q.reason, q.now, q.notOwner, q.deadlineBefore).changes;
  }

  trimCommands(keep: number): number {
    return this.trim.run(Math.max(0, Math.trunc(keep))).changes;
  }
}

export class SqliteCommandReader {
  private readonly byId: Database.Statement;
  private readonly ofPhone: Database.Statement;
  private readonly all: Database.Statement;

  constructor(db: Database.Database) {
    this.byId = db.prepare(`${SELECT_COMMAND_SQL} WHERE id = ?`);
    this.ofPhone = db.prepare(`${SELECT_COMMAND_SQL} WHERE mac = ? ORDER BY seq DESC LIMIT ?`);
    this.all = db.prepare(`${SELECT_COMMAND_SQL} ORDER BY seq DESC LIMIT ?`);
  }

  command(id: string): StoredCommand | undefined {
    const row = this.byId.get(id) as CommandRow | undefined;
    return row && commandFromRow(row);
  }

  commands(q: { mac?: string; limit: number }): StoredCommand[] {
    const rows = (q.mac === undefined ? this.all.all(q.limit) : this.ofPhone.all(q.mac, q.limit)) as CommandRow[];
    return rows.map(commandFromRow);
  }
}
