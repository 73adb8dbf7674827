/**
 * Exports of the call log and the events as CSV or JSON lines (`?format=csv|jsonl` on /api/v1/calls and
 * /api/v1/events), for any range and filter. The rows are read from the store a page at a time and written
 * as they come, waiting while the client has not taken what was sent: a year of a big site's calls goes out
 * without ever being held in memory.
 */
import type { HttpResponse, HttpStream } from '../../http/types.ts';
import type { CallRecord, StoredEvent } from '../../store/types.ts';
import { csvLine } from '../csv.ts';
import { accountOfCall } from '../../store/call-stats.ts';
import type { Inventory } from '../inventory.ts';
import { callJson, eventJson } from './json.ts';
import { ParamError } from './params.ts';

export type ExportFormat = 'csv' | 'jsonl';

/** Rows read from the store per query. */
export const EXPORT_PAGE = 1000;
/** Past this many bytes unsent, the export waits for the client before reading the next page. */
const MAX_UNSENT = 256 * 1024;

/** `format`: undefined for the ordinary paged JSON answer. */
export function formatParam(q: URLSearchParams): ExportFormat | undefined {
  const text = q.get('format');
  if (text === null || text === '' || text === 'json') return undefined;
  if (text === 'csv' || text === 'jsonl') return text;
  throw new ParamError('format must be csv or jsonl (or json, the default paged answer)');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the client took most of what was sent; false once it went away. */
async function drained(stream: HttpStream): Promise<boolean> {
  while (!stream.closed && stream.buffered > MAX_UNSENT) await sleep(5);
  return !stream.closed;
}

export interface Exporter<Row> {
  header?: string;
  line(row: Row): string;
}

/**
 * Streams every row `page(before)` yields (newest first, each page older than `before`, the id cursor), as
 * a download. Stops when the client goes away.
 */
export async function streamExport<Row extends { id: number }>(
  res: HttpResponse,
  filename: string,
  format: ExportFormat,
  page: (before: number | undefined) => Promise<Row[]>,
  exporter: Exporter<Row>,
): Promise<void> {
  // The first page is read before the headers go out, so a failing store still gets a proper error answer.
  let rows = await page(undefined);
  const stream = res.stream(200, {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'Content-Disposition': `attachment; filename="${filename}.${format}"`,
    'Cache-Control': 'no-store',
  });
  if (stream.closed) return;
  if (exporter.header) stream.write(exporter.header);
  try {
    for (;;) {
      let chunk = '';
      for (const row of rows) chunk += exporter.line(row);
      if (chunk) stream.write(chunk);
      if (rows.length < EXPORT_PAGE || !(await drained(stream))) break;
      rows = await page(rows[rows.length - 1].id);
    }
  } finally {
    // A store failure midway ends the download early; the client sees a short file, not a hang.
    stream.end();
  }
}

const CALL_COLUMNS = [
  'id', 'mac', 'phone_name', 'location', 'groups', 'call_id', 'direction', 'remote', 'display_remote', 'local', 'account',
  'outcome', 'started_at', 'answered_at', 'ended_at', 'ring_seconds', 'talk_seconds', 'ended_by',
] as const;

export function callExporter(format: ExportFormat, inventory: Inventory): Exporter<CallRecord> {
  const row = (r: CallRecord) => {
    const entry = inventory.get(r.mac);
    return {
      id: r.id,
      ...callJson(r.mac, r.call),
      phone_name: entry?.name ?? '',
      location: entry?.location ?? '',
      groups: entry?.groups ?? [],
      account: accountOfCall(r.call.local),
    };
  };
  if (format === 'jsonl') return { line: (r) => `${JSON.stringify(row(r))}\n` };
  return {
    header: csvLine(CALL_COLUMNS),
    line: (r) => {
      const o = row(r) as Record<string, unknown>;
      return csvLine(CALL_COLUMNS.map((c) => (c === 'groups' ? (o.groups as string[]).join(';') : (o[c] as string | number | null))));
    },
  };
}

const EVENT_COLUMNS = ['id', 'received_at', 'mac', 'phone_name', 'incident', 'source_ip', 'vars', 'extra', 'raw'] as const;

export function eventExporter(format: ExportFormat, inventory: Inventory): Exporter<StoredEvent> {
  if (format === 'jsonl') return { line: (e) => `${JSON.stringify(eventJson(e))}\n` };
  return {
    header: csvLine(EVENT_COLUMNS),
    line: (e) => {
      const j = eventJson(e);
      return csvLine([j.id, j.received_at, j.mac, inventory.get(e.mac)?.name ?? '', j.incident, j.source_ip, JSON.stringify(j.vars), JSON.stringify(j.extra), j.raw]);
    },
  };
}
