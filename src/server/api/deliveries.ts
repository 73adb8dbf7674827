/**
 * Forwarding in the REST API: the delivery log (`GET /api/v1/deliveries?state=…`), one delivery, a retry
 * (`POST /api/v1/deliveries/<id>/retry`, same webhook-id), the destinations with their health
 * (`GET /api/v1/destinations`), a test event (`POST /api/v1/destinations/<name>/test`) and switching a
 * destination a 410 switched off on again (`POST /api/v1/destinations/<name>/enable`).
 */
import type { ServerContext } from '../context.ts';
import type { Router } from '../../http/router.ts';
import type { DeliveryState, DestinationInfo, StoredDelivery } from '../../store/types.ts';
import { webhookId } from '../../store/delivery-rows.ts';
import { cursorParam, enumParam, limitParam, onlyParams, ParamError, textParam } from './params.ts';

export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'failed', 'dead', 'delivered'];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function deliveryJson(d: StoredDelivery) {
  return {
    id: d.id,
    webhook_id: webhookId(d),
    destination: d.destination,
    type: d.type,
    mac: d.mac,
    event_id: d.eventId,
    created_at: iso(d.createdAt),
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.state === 'pending' || d.state === 'failed' ? iso(d.nextAt) : null,
    last_attempt_at: iso(d.lastAttemptAt),
    last_status: d.lastStatus,
    last_error: d.lastError,
    delivered_at: iso(d.deliveredAt),
  };
}

export function destinationJson(d: DestinationInfo) {
  return {
    name: d.name,
    kind: d.kind,
    target: d.target,
    enabled: d.enabled,
    disabled_reason: d.disabledReason,
    disabled_at: iso(d.disabledAt),
    connected: d.connected,
    queued: d.queued,
    in_flight: d.in_flight,
    last_success_at: iso(d.last_success_at),
    last_failure_at: iso(d.last_failure_at),
    last_error: d.last_error,
  };
}

function idParam(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw new ParamError(`"${text}" is not a delivery id`);
  return id;
}

export function registerDeliveryRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/v1/deliveries', async (req, res) => {
    const q = req.query;
    onlyParams(q, ['state', 'destination', 'limit', 'before']);
    const limit = limitParam(q);
    const rows = await ctx.store.deliveries({
      state: enumParam(q, 'state', DELIVERY_STATES),
      destination: textParam(q, 'destination'),
      before: cursorParam(q),
      limit,
    });
    res.json(200, { deliveries: rows.map(deliveryJson), next: rows.length === limit ? rows[rows.length - 1].id : null });
  });

  router.get('/api/v1/deliveries/:id', async (req, res, params) => {
    onlyParams(req.query, []);
    const row = await ctx.store.delivery(idParam(params.id));
    if (!row) res.json(404, { error: `no delivery ${params.id}` });
    else {
      const body = row.body ?? (await ctx.forwarder?.bodyOf(row)) ?? null;
      res.json(200, { ...deliveryJson(row), body: body === null ? null : (JSON.parse(body) as unknown) });
    }
  });

  router.add('POST', '/api/v1/deliveries/:id/retry', async (_req, res, params) => {
    const id = idParam(params.id);
    if (!ctx.forwarder) {
      res.json(409, { error: 'forwarding is not configured (serve --webhook, --forward or --mqtt)' });
      return;
    }
    const row = await ctx.forwarder.retry(id);
    if (!row) res.json(404, { error: `no delivery ${id}` });
    else res.json(202, deliveryJson(row));
  });

  router.get('/api/v1/destinations', (req, res) => {
    onlyParams(req.query, []);
    const list = ctx.forwarder?.destinationsInfo() ?? [];
    res.json(200, { destinations: list.map(destinationJson), cluster: ctx.forwarder?.clusterInfo() ?? null });
  });

  router.add('POST', '/api/v1/destinations/:name/test', async (_req, res, params) => {
    if (!ctx.forwarder || !(await ctx.forwarder.sendTest(params.name))) {
      res.json(404, { error: `no destination "${params.name}"` });
      return;
    }
    res.json(202, { status: 'queued' });
  });

  router.add('POST', '/api/v1/destinations/:name/enable', async (_req, res, params) => {
    if (!ctx.forwarder || !(await ctx.forwarder.enable(params.name))) {
      res.json(404, { error: `no destination "${params.name}"` });
      return;
    }
    const info = ctx.forwarder.destinationsInfo().find((d) => d.name === params.name)!;
    res.json(200, destinationJson(info));
  });
}
