/**
 * Reports through the API (`GET /api/v1/reports/{phones,accounts,groups,heatmap}`), from the call
 * summaries the store keeps as calls end. Common parameters: `from`, `to` (ISO times or spans like 7d; the
 * period is widened to whole hours; default the last 7 days), `group`, `sl` (service level seconds, one of
 * 5, 10, 15, 20, 30, 60; default 20), and for the heat map `tz` (an IANA zone; default UTC).
 */
import type { ServerContext } from '../context.ts';
import type { Router } from '../../http/router.ts';
import { HOUR_MS } from '../../store/call-stats.ts';
import { SERVICE_LEVEL_SECONDS, type CallStatsRow, type StatsQuery } from '../../store/types.ts';
import { checkTimeZone, extensionOf, figuresOf, groupRows, heatMap, WEEKDAYS } from '../reports.ts';
import { groupParam, onlyParams, ParamError } from './params.ts';
import { parseSince } from '../duration.ts';

const DAY_MS = 86_400_000;
/** The query parameters every report takes (the heat map `tz` too). */
const REPORT_PARAMS = ['from', 'to', 'group', 'sl'];
/** Longest period one report covers. */
const MAX_PERIOD_MS = 5 * 366 * DAY_MS;

function timeParam(q: URLSearchParams, name: string, now: number): number | undefined {
  const text = q.get(name);
  if (text === null || text === '') return undefined;
  const at = parseSince(text, now);
  if (at === undefined) throw new ParamError(`${name} "${text}" is neither an ISO time (2025-01-31T08:00:00Z) nor a span like 24h or 7d`);
  return at;
}

export interface ReportParams {
  query: StatsQuery;
  group: string | undefined;
  sl: number;
}

export function reportParams(q: URLSearchParams, now: number, macsIn: (group: string) => string[]): ReportParams {
  const to = Math.ceil((timeParam(q, 'to', now) ?? now) / HOUR_MS) * HOUR_MS;
  const from = Math.floor((timeParam(q, 'from', now) ?? to - 7 * DAY_MS) / HOUR_MS) * HOUR_MS;
  if (from >= to) throw new ParamError('from must be before to');
  if (to - from > MAX_PERIOD_MS) throw new ParamError('a report covers at most 5 years');
  const slText = q.get('sl');
  const sl = slText === null || slText === '' ? 20 : Number(slText);
  if (!(SERVICE_LEVEL_SECONDS as readonly number[]).includes(sl)) throw new ParamError(`sl must be one of ${SERVICE_LEVEL_SECONDS.join(', ')} (seconds)`);
  const macs = groupParam(q, macsIn);
  return { query: { from, to, ...(macs ? { macs } : {}) }, group: q.get('group') || undefined, sl };
}

const envelope = (p: ReportParams) => ({
  from: new Date(p.query.from).toISOString(),
  to: new Date(p.query.to).toISOString(),
  group: p.group ?? null,
  service_level_seconds: p.sl,
});

const byName = (a: string, b: string) => a.localeCompare(b);

export function registerReportRoutes(router: Router, ctx: ServerContext): void {
  const params = (q: URLSearchParams, names = REPORT_PARAMS) => {
    onlyParams(q, names);
    return reportParams(q, ctx.now(), (g) => ctx.inventory.macsIn(g));
  };
  /** Summaries of the period, including calls that ended since the last state checkpoint. */
  const stats = async (p: ReportParams): Promise<CallStatsRow[]> => {
    await ctx.mode.flushState();
    return ctx.store.callStats(p.query);
  };

  router.get('/api/v1/reports/phones', async (req, res) => {
    const p = params(req.query);
    const byMac = groupRows(await stats(p), (r) => [r.mac]);
    const phones = [...byMac.keys()].sort().map((mac) => {
      const entry = ctx.inventory.get(mac);
      return { mac, name: entry?.name ?? '', location: entry?.location ?? '', groups: entry?.groups ?? [], ...figuresOf(byMac.get(mac)!, p.sl) };
    });
    res.json(200, { ...envelope(p), phones });
  });

  router.get('/api/v1/reports/accounts', async (req, res) => {
    const p = params(req.query);
    const byAccount = groupRows(await stats(p), (r) => [r.account]);
    const accounts = [...byAccount.keys()].sort(byName).map((account) => {
      const rows = byAccount.get(account)!;
      const macs = [...new Set(rows.map((r) => r.mac))].sort();
      const displayName = macs
        .flatMap((mac) => ctx.phones.get(mac)?.accounts ?? [])
        .find((a) => a.id === account && a.displayName)?.displayName ?? '';
      return { account, extension: extensionOf(account), display_name: displayName, phones: macs, ...figuresOf(rows, p.sl) };
    });
    res.json(200, { ...envelope(p), accounts });
  });

  router.get('/api/v1/reports/groups', async (req, res) => {
    const p = params(req.query);
    const byGroup = groupRows(await stats(p), (r) => ctx.inventory.get(r.mac)?.groups ?? []);
    const names = p.group !== undefined ? [p.group] : ctx.inventory.groups();
    const groups = names.sort(byName).map((group) => ({
      group,
      phones: ctx.inventory.macsIn(group).length,
      ...figuresOf(byGroup.get(group) ?? [], p.sl),
    }));
    res.json(200, { ...envelope(p), groups });
  });

  router.get('/api/v1/reports/heatmap', async (req, res) => {
    const p = params(req.query, [...REPORT_PARAMS, 'tz']);
    const tzText = req.query.get('tz') || 'UTC';
    const tz = checkTimeZone(tzText);
    if (!tz) throw new ParamError(`tz "${tzText}" is not a time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
    await ctx.mode.flushState();
    const cells = heatMap(await ctx.store.hourStats(p.query), tz);
    res.json(200, { ...envelope(p), tz, weekdays: WEEKDAYS, cells });
  });
}
