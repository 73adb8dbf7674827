/**
 * The `commands` table (remote-control commands) as both stores write and read it: the columns, the row
 * shape, the SQL that is the same in both dialects, and the mapping to `StoredCommand`.
 */
import type { CommandStatus, ControlCommand } from '../core/control/commands.ts';
import type { StoredCommand } from './types.ts';

/** Columns in insert order (the `seq` column is the table's own). */
export const COMMAND_COLUMNS = [
  'id', 'mac', 'command', 'number', 'keys', 'vendor', 'status', 'reason', 'created_at', 'accepted_at', 'finished_at',
  'confirmed_event_id', 'confirmed_incident', 'deadline_at', 'owner',
] as const;

/** The table, with the integer and serial types of the dialect. */
export function commandsTableSql(types: { int: string; serial: string }): string {
  return `
    -- Remote-control commands: what was asked of a phone and how it ended. No credentials: those stay sealed
    -- in phone_control. seq orders commands newest first and bounds how many are kept (trimCommands).
    CREATE TABLE commands (
      seq ${types.serial},
      id TEXT NOT NULL UNIQUE,
      mac TEXT NOT NULL,
      command TEXT NOT NULL,
      number TEXT,
      keys TEXT, -- JSON array of key names
      vendor TEXT,
      status TEXT NOT NULL,
      reason TEXT,
      created_at ${types.int} NOT NULL,
      accepted_at ${types.int},
      finished_at ${types.int}, -- set once the command is final; never changed after
      confirmed_event_id ${types.int},
      confirmed_incident TEXT,
      deadline_at ${types.int} NOT NULL,
      owner TEXT NOT NULL
    );
    CREATE INDEX commands_mac ON commands (mac, seq);
    CREATE INDEX commands_created ON commands (created_at);
    -- Small: commands in flight, which a receiver that stopped leaves behind (abandonCommands).
    CREATE INDEX commands_unfinished ON commands (deadline_at) WHERE finished_at IS NULL;
  `;
}

/** The upsert, `?` placeholders; a row already final is left as it is (the first conclusion wins). */
export const PUT_COMMAND_SQL = `INSERT INTO commands (${COMMAND_COLUMNS.join(', ')}) VALUES (${COMMAND_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, status = excluded.status, reason = excluded.reason,
    accepted_at = excluded.accepted_at, finished_at = excluded.finished_at,
    confirmed_event_id = excluded.confirmed_event_id, confirmed_incident = excluded.confirmed_incident,
    deadline_at = excluded.deadline_at
  WHERE commands.finished_at IS NULL`;

export const SELECT_COMMAND_SQL = `SELECT ${COMMAND_COLUMNS.join(', ')} FROM commands`;

export interface CommandRow {
  id: string;
  mac: string;
  command: string;
  number: string | null;
  keys: string | null;
  vendor: string | null;
  status: string;
  reason: string | null;
  created_at: number;
  accepted_at: number | null;
  finished_at: number | null;
  confirmed_event_id: number | null;
  confirmed_incident: string | null;
  deadline_at: number;
  owner: string;
}

/** The values of a row, in COMMAND_COLUMNS order. */
export function commandValues(c: StoredCommand): (string | number | null)[] {
  return [
    c.id, c.mac, c.command, c.number, c.keys === null ? null : JSON.stringify(c.keys), c.vendor, c.status, c.reason,
    c.createdAt, c.acceptedAt, c.finishedAt, c.confirmedBy?.eventId ?? null, c.confirmedBy?.incident ?? null, c.deadlineAt, c.owner,
  ];
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function commandFromRow(r: CommandRow): StoredCommand {
  return {
    id: r.id,
    mac: r.mac,
    command: r.command as ControlCommand,
    number: r.number,
    keys: r.keys === null ? null : (JSON.parse(r.keys) as string[]),
    vendor: r.vendor,
    status: r.status as CommandStatus,
    reason: r.reason,
    createdAt: Number(r.created_at),
    acceptedAt: num(r.accepted_at),
    finishedAt: num(r.finished_at),
    confirmedBy: r.confirmed_event_id === null ? null : { eventId: Number(r.confirmed_event_id), incident: r.confirmed_incident ?? '' },
    deadlineAt: Number(r.deadline_at),
    owner: r.owner,
  };
}

/** `?` placeholders numbered `$1…` for PostgreSQL. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
