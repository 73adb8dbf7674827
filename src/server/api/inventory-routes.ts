/**
 * The phone inventory through the API: a phone's name, location and groups (`PATCH /api/v1/phones/<mac>`),
 * forgetting a phone (`DELETE /api/v1/phones/<mac>`, `?purge=events` deletes its events and calls too), and
 * the whole inventory as JSON or CSV (`GET /api/v1/inventory`, `POST /api/v1/inventory` with a CSV body).
 *
 * Changes from another site are refused before they get here, like every change through the API (see
 * server/request-guard.ts).
 */
import type { ServerContext } from '../context.ts';
import type { HttpRequest } from '../../http/types.ts';
import type { Router } from '../../http/router.ts';
import { blankEntry, inventoryCsv, InventoryError, parseInventoryCsv, patchEntry } from '../inventory.ts';
import { inventoryJson, phoneJson } from './json.ts';
import { macParam, onlyParams, ParamError } from './params.ts';

function jsonBody(req: HttpRequest): unknown {
  const text = req.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ParamError('the body is not JSON (expected {"name": …, "location": …, "groups": […]})');
  }
}

export function registerInventoryRoutes(router: Router, ctx: ServerContext): void {
  router.add('PATCH', '/api/v1/phones/:mac', async (req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    let entry;
    try {
      entry = patchEntry(ctx.inventory.get(mac) ?? blankEntry(mac), jsonBody(req));
    } catch (err) {
      if (err instanceof InventoryError) throw new ParamError(err.message);
      throw err;
    }
    await ctx.store.write({ events: [], rejected: [], inventory: [entry] });
    ctx.inventory.set(entry);
    const phone = ctx.phones.get(mac);
    res.json(200, phone ? phoneJson(phone, ctx.now(), ctx.settings.offlineAfterMs, entry) : { mac, ...inventoryJson(entry) });
  });

  router.add('DELETE', '/api/v1/phones/:mac', async (req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    const purgeText = req.query.get('purge');
    if (purgeText !== null && purgeText !== '' && purgeText !== 'events') throw new ParamError('purge must be "events" (or left out to keep them)');
    const purge = purgeText === 'events';
    if (!ctx.phones.get(mac) && !ctx.inventory.get(mac)) {
      res.json(404, { error: `no phone ${mac} is known` });
      return;
    }
    await ctx.mode.forget(mac, purge);
    ctx.inventory.delete(mac);
    ctx.phoneForgotten?.(mac);
    ctx.logger.info({ mac, purge }, 'phone forgotten');
    res.json(200, { forgotten: mac, events_purged: purge });
  });

  router.get('/api/v1/inventory', (req, res) => {
    onlyParams(req.query, ['format']);
    const format = req.query.get('format');
    const entries = ctx.inventory.all();
    if (format === 'csv') {
      res.send(200, inventoryCsv(entries), {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': 'attachment; filename="inventory.csv"',
        'Cache-Control': 'no-store',
      });
      return;
    }
    if (format !== null && format !== '' && format !== 'json') throw new ParamError('format must be csv or json');
    res.json(200, { inventory: entries.map((e) => ({ mac: e.mac, ...inventoryJson(e) })), groups: ctx.inventory.groups() });
  });

  router.add('POST', '/api/v1/inventory', async (req, res) => {
    const result = parseInventoryCsv(req.body.toString('utf8'), (mac) => ctx.inventory.get(mac));
    // Control addresses are checked before anything is stored, so a refused one imports nothing either.
    const problems: string[] = [...result.problems];
    for (const c of result.controlUrls) {
      const checked = ctx.control ? ctx.control.checkUrl(c.url) : { error: 'remote control is not running on this receiver' };
      if (typeof checked !== 'string') problems.push(`line ${c.line}: control_url: ${checked.error}`);
    }
    if (problems.length) {
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
      res.json(400, { error: `nothing imported: ${problems[0]}${more}`, problems: problems.slice(0, 100) });
      return;
    }
    await ctx.store.write({ events: [], rejected: [], inventory: result.entries });
    for (const entry of result.entries) ctx.inventory.set(entry);
    for (const c of result.controlUrls) await ctx.control!.put(c.mac, { url: c.url });
    res.json(200, { imported: result.entries.length, ...(result.controlUrls.length ? { control_urls: result.controlUrls.length } : {}) });
  });
}
