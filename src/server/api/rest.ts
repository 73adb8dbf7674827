/**
 * The REST API's read endpoints: events, phones, calls, rejected requests. Lists are newest first and page
 * with `next`: pass it back as `before` for the following page; `null` means there is no more. The phones
 * list goes by MAC instead: pass `next` back as `after`.
 */
import type { ServerContext } from '../context.ts';
import type { Router } from '../../http/router.ts';
import type { CallOutcome, PhoneState } from '../../domain/types.ts';
import { callJson, eventJson, phoneJson, phoneSummaryJson, rejectedJson } from './json.ts';
import { cursorParam, enumParam, groupParam, incidentParam, limitParam, macParam, onlyParams, sinceParam, textParam, untilParam } from './params.ts';
import { callExporter, eventExporter, formatParam, streamExport, EXPORT_PAGE, type Exporter, type ExportFormat } from './export.ts';
import type { HttpResponse } from '../../http/types.ts';
import { registerInventoryRoutes } from './inventory-routes.ts';
import { registerReportRoutes } from './reports.ts';
import { mapInSlices } from './slices.ts';

export const OUTCOMES: readonly CallOutcome[] = ['ongoing', 'answered', 'missed', 'rejected', 'forwarded', 'transferred', 'failed'];

/** `next` cursor: the last id of a full page (there may be more), else null. */
function nextCursor(items: readonly { id: number }[], limit: number): number | null {
  return items.length === limit ? items[items.length - 1].id : null;
}

/**
 * A list endpoint's answer: with an export `format`, every matching row as a download, page by page from the
 * `before` given; otherwise one page of JSON with its `next` cursor.
 */
async function listOrExport<Row extends { id: number }>(
  res: HttpResponse,
  q: URLSearchParams,
  name: 'events' | 'calls',
  format: ExportFormat | undefined,
  read: (before: number | undefined, limit: number) => Promise<Row[]>,
  exporter: (format: ExportFormat) => Exporter<Row>,
  json: (row: Row) => unknown,
): Promise<void> {
  if (format) {
    const first = cursorParam(q);
    await streamExport(res, name, format, (before) => read(before ?? first, EXPORT_PAGE), exporter(format));
    return;
  }
  const limit = limitParam(q);
  const rows = await read(cursorParam(q), limit);
  res.json(200, { [name]: rows.map(json), next: nextCursor(rows, limit) });
}

export function registerRestRoutes(router: Router, ctx: ServerContext): void {
  const macsIn = (group: string) => ctx.inventory.macsIn(group);

  router.get('/api/v1/events', async (req, res) => {
    const q = req.query;
    onlyParams(q, ['mac', 'group', 'incident', 'call_id', 'since', 'until', 'limit', 'before', 'format']);
    const format = formatParam(q);
    const filter = {
      mac: macParam(q.get('mac')),
      macs: groupParam(q, macsIn),
      incident: incidentParam(q),
      callId: textParam(q, 'call_id'),
      since: sinceParam(q, ctx.now()),
      until: untilParam(q, ctx.now()),
    };
    await listOrExport(res, q, 'events', format, (before, limit) => ctx.store.events({ ...filter, before, limit }), (f) => eventExporter(f, ctx.inventory), eventJson);
  });

  // Paged by MAC (keyset: `after` is the last MAC of the previous page), one summary per phone, so the
  // answer stays small however many phones there are. `group` narrows the list before paging.
  router.get('/api/v1/phones', async (req, res) => {
    const q = req.query;
    onlyParams(q, ['limit', 'after', 'group']);
    const limit = limitParam(q, 500);
    const after = macParam(q.get('after'), 'after');
    const macs = groupParam(q, macsIn);
    const now = ctx.now();
    const { offlineAfterMs } = ctx.settings;
    let page: { phones: PhoneState[]; more: boolean; total: number };
    if (macs === undefined) {
      page = { ...ctx.phones.page(after, limit), total: ctx.phones.size };
    } else {
      const inGroup = new Set(macs);
      const all = ctx.phones.all().filter((p) => inGroup.has(p.mac));
      const rest = after === undefined ? all : all.filter((p) => p.mac > after);
      page = { phones: rest.slice(0, limit), more: rest.length > limit, total: all.length };
    }
    const { phones, more, total } = page;
    // The states are this moment's (a change replaces a phone's state, never edits it), whatever runs between slices.
    const summaries = await mapInSlices(phones, (p) => phoneSummaryJson(p, now, offlineAfterMs, ctx.inventory.get(p.mac)));
    res.json(200, {
      phones: summaries,
      next: more ? phones[phones.length - 1].mac : null,
      total,
    });
  });

  router.get('/api/v1/phones/:mac', async (req, res, params) => {
    onlyParams(req.query, []);
    const mac = macParam(params.mac, 'the MAC in the path');
    const phone = ctx.phones.get(mac!);
    if (!phone) {
      res.json(404, { error: `no phone ${mac} has sent an event` });
      return;
    }
    await ctx.mode.flushState();
    const recent = await ctx.store.calls({ mac, limit: 20 });
    res.json(200, {
      ...phoneJson(phone, ctx.now(), ctx.settings.offlineAfterMs, ctx.inventory.get(phone.mac)),
      recent_calls: recent.map((r) => callJson(r.mac, r.call)),
    });
  });

  router.get('/api/v1/calls', async (req, res) => {
    const q = req.query;
    onlyParams(q, ['mac', 'group', 'outcome', 'since', 'until', 'limit', 'before', 'format']);
    const format = formatParam(q);
    const filter = {
      mac: macParam(q.get('mac')),
      macs: groupParam(q, macsIn),
      outcome: enumParam(q, 'outcome', OUTCOMES),
      since: sinceParam(q, ctx.now()),
      until: untilParam(q, ctx.now()),
    };
    // The call log is stored with the phone states; make it include every event committed so far.
    await ctx.mode.flushState();
    await listOrExport(res, q, 'calls', format, (before, limit) => ctx.store.calls({ ...filter, before, limit }), (f) => callExporter(f, ctx.inventory), (r) => ({
      id: r.id,
      ...callJson(r.mac, r.call),
    }));
  });

  router.get('/api/v1/rejected', async (req, res) => {
    const q = req.query;
    onlyParams(q, ['since', 'limit', 'before']);
    const limit = limitParam(q);
    const rows = await ctx.store.rejected({ since: sinceParam(q, ctx.now()), before: cursorParam(q), limit });
    res.json(200, { rejected: rows.map(rejectedJson), next: nextCursor(rows, limit) });
  });

  registerInventoryRoutes(router, ctx);
  registerReportRoutes(router, ctx);
}
