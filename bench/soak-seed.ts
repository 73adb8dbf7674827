/**
 * A grown log for the soak benchmark, written straight into SQLite with the receiver's real schema (its
 * migrations) and realistic rows: call flows of thousands of phones with display names, vars JSON and raw
 * targets as phones send them, the per-phone prev_id chain, phone states checkpointed at the last event.
 * Much faster than sending millions of requests, and the receiver opens it as its own.
 */
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite.ts';
import { replay } from '../src/domain/reduce.ts';
import { encodePhone } from '../src/store/sqlite-writes.ts';
import type { PhoneEvent } from '../src/domain/types.ts';

const FLOW = ['incoming_call', 'call_established', 'hold', 'unhold', 'call_terminated', 'busy_to_idle', 'outgoing_call', 'call_established', 'call_terminated', 'dnd_on', 'dnd_off', 'registered'];
const NAMES = ['Jörg Müller', 'Ann Lee', 'Zoë Saldaña-Perez', 'Front Desk 2', 'François Dubois', 'Björn Ångström', 'Mei Ling Chen'];

export const macOf = (phone: number) => (0x001565000000 + phone).toString(16).padStart(12, '0');

/** Seeds `events` events over `phones` phones (phone 0 gets a deep history of `deep` of them), ending at `endMs`. */
export async function seedLog(file: string, events: number, phones: number, deep: number, endMs: number): Promise<{ seconds: number }> {
  const started = performance.now();
  // The receiver's own store creates the file and runs its migrations.
  const opened = new SqliteStore(file);
  await opened.ready();
  await opened.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insert = db.prepare(
    `INSERT INTO events (id, received_at, mac, incident, call_id, vars, extra, raw_target, source_ip, prev_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const newest = new Array<number | null>(phones).fill(null);
  const round = new Array<number>(phones).fill(0);
  const lastEvents = new Map<number, PhoneEvent[]>();
  const spanMs = 30 * 24 * 3_600_000;
  const tx = db.transaction((from: number, to: number) => {
    for (let id = from; id <= to; id++) {
      // Phone 0 sends every (events/deep)-th event: a deep history; the rest spread over the fleet.
      const phone = deep > 0 && id % Math.max(1, Math.floor(events / deep)) === 0 ? 0 : 1 + (id % (phones - 1));
      const r = round[phone]++;
      const incident = FLOW[r % FLOW.length];
      const mac = macOf(phone);
      const user = 100 + (phone % 900);
      const callId = String(Math.floor(r / 6) + 1);
      const vars: Record<string, string> = {
        mac, ip: `10.${(phone >> 16) & 255}.${(phone >> 8) & 255}.${phone & 255}`, model: 'SIP-T46S', firmware: '66.86.0.15',
        active_url: `sip:${user}@pbx.local`, active_user: String(user), active_host: 'pbx.local', local: `sip:${user}@pbx.local`,
        remote: `sip:${2000 + (r % 97)}@pbx.local`, display_remote: NAMES[(phone + r) % NAMES.length], call_id: callId,
      };
      const at = endMs - spanMs + Math.floor((id / events) * spanMs);
      const raw = Buffer.from(`/actionurl/${incident}?mac=${mac}&ip=${vars.ip}&model=SIP-T46S&firmware=66.86.0.15&active_url=${vars.active_url}&local=${vars.local}&remote=${vars.remote}&display_remote=${vars.display_remote}&call_id=${callId}`, 'utf8');
      insert.run(id, at, mac, incident, callId, JSON.stringify(vars), '{}', raw, vars.ip, newest[phone]);
      newest[phone] = id;
      // The last few events of each phone rebuild its state below.
      let tail = lastEvents.get(phone);
      if (!tail) lastEvents.set(phone, (tail = []));
      tail.push({ id, receivedAt: at, mac, incident, vars, sourceIp: vars.ip });
      if (tail.length > FLOW.length) tail.shift();
    }
  });
  // The indexes of the real schema are built once after the rows, which is faster than row by row.
  const indexes = (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL").all() as { sql: string }[]).map((r) => r.sql);
  for (const sql of indexes) db.exec(`DROP INDEX ${/INDEX\s+(\w+)/.exec(sql)![1]}`);
  const CHUNK = 50_000;
  for (let from = 1; from <= events; from += CHUNK) tx(from, Math.min(events, from + CHUNK - 1));
  for (const sql of indexes) db.exec(sql);
  db.prepare("INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(events);
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO phones (mac, ip, model, firmware, accounts, registered, dnd, presence, state, first_seen, last_seen, last_event_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const [, tail] of lastEvents) {
      const { state } = replay(tail);
      if (state) upsert.run(encodePhone({ ...state, calls: [], busy: false, presence: 'idle' }));
    }
    db.prepare("INSERT OR REPLACE INTO receiver_state (key, value) VALUES ('state_event_id', ?)").run(events);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { seconds: (performance.now() - started) / 1000 };
}
