/**
 * The receiver's one handler: which path goes where. This is the single place things are mounted:
 *   /actionurl, /actionurl/…   ingest (phones)
 *   /api/v1/…                  REST API and event stream (admin token when set)
 *   /provision/<file>          phone config files
 *   /healthz, /metrics         operations
 *   everything else            the dashboard, when the composition root (src/start.ts) passes one
 *
 * The server knows nothing about the dashboard beyond this: a handler for the paths above do not claim, and
 * a check of the dashboard's sign-in (so the dashboard's pages may call the API without the Bearer token).
 */
import type { ServerContext } from './context.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from '../http/types.ts';
import { Router } from '../http/router.ts';
import { equalSecrets } from '../core/secret-compare.ts';
import { createIngestHandler, type IngestOptions } from './ingest.ts';
import { withCompression } from '../http/compress.ts';
import { isLocalClient } from '../core/local-client.ts';
import { registerRestRoutes } from './api/rest.ts';
import { registerControlRoutes } from './api/control.ts';
import { registerDeliveryRoutes } from './api/deliveries.ts';
import { createStreamHandler, type StreamOptions } from './api/stream.ts';
import { openApiDocument } from './api/openapi.ts';
import { onlyParams, ParamError } from './api/params.ts';
import { StoreUnavailableError } from '../store/store-unavailable.ts';
import { isConnectionError } from '../store/pg-ingest.ts';
import { provisionFile } from './provision.ts';
import { serverAddressOf } from '../http/server-url.ts';
import { LoginThrottle } from '../core/login-guard.ts';
import { changeRefusal, type OwnHostNames } from './request-guard.ts';

/** What the receiver mounts for every path it does not own itself. */
export interface MountedDashboard {
  handler: HttpHandler;
  /** True when the request carries the dashboard's sign-in: the `/api` guard lets it through like a Bearer token. */
  signedIn(req: HttpRequest): boolean;
}

export interface AppOptions extends IngestOptions {
  stream: StreamOptions;
  dashboard?: MountedDashboard;
  /** The names the dashboard and API answer to in the default access mode (see request-guard.ts). */
  ownHosts?: OwnHostNames;
}

/** The admin token from `Authorization: Bearer …`, or `?access_token=` where no header can be set (EventSource). */
function presentedToken(req: HttpRequest): string | null {
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  if (m) return m[1];
  return req.query.get('access_token');
}

const RESOLVED: Promise<void> = Promise.resolve();

export async function createApp(ctx: ServerContext, opts: AppOptions): Promise<HttpHandler> {
  const api = new Router();
  if (ctx.control) registerControlRoutes(api, ctx.control);
  registerRestRoutes(api, ctx);
  registerDeliveryRoutes(api, ctx);
  api.get('/api/v1/stream', createStreamHandler(ctx, opts.stream));
  api.get('/api/v1/openapi.json', (req, res) => {
    onlyParams(req.query, []);
    let server: string | undefined;
    try {
      server = serverAddressOf(req, ctx.settings).url;
    } catch {
      server = undefined;
    }
    res.json(200, openApiDocument(server));
  });
  // JSON answers compressed for clients that accept it (the event stream is left alone).
  // Every change through the API comes from our own pages or a script, never from another site (request-guard.ts).
  const admitChange = (req: HttpRequest, res: HttpResponse): boolean => {
    const refused = changeRefusal(req.method, req.headers);
    if (refused) res.json(403, { error: refused });
    return refused === undefined;
  };
  const apiHandler = withCompression(api.handler((req, res) => res.json(404, { error: `no such API path: ${req.path}` }), admitChange));

  const root = new Router();
  const ingest = createIngestHandler(ctx, opts);
  root.add('*', '/actionurl/*', ingest);
  root.get('/healthz', async (_req, res) => {
    const journal = ctx.mode.journal;
    const journalled = journal ? { journalled: journal.journalled } : {};
    try {
      // A database that hangs (frozen, black-holed) must not hang the probe: answer within the timeout.
      await withinMs(ctx.store.lastEventId(), ctx.settings.dbTimeoutMs, `the ${ctx.store.kind} store did not answer within ${ctx.settings.dbTimeoutMs} ms`);
      // Reads work but events are refused: a load balancer should send phones elsewhere, an operator look.
      const full = ctx.storeHealth?.problem();
      if (full) {
        res.json(503, { status: 'degraded', store: ctx.store.kind, phones: ctx.phones.size, error: full, ...journalled });
        return;
      }
      res.json(200, { status: 'ok', store: ctx.store.kind, phones: ctx.phones.size, ...journalled });
    } catch (err) {
      // With a local journal the receiver still accepts events: a load balancer must keep sending them here.
      const status = journal ? 'degraded' : 'unavailable';
      res.json(status === 'degraded' ? 200 : 503, { status, store: ctx.store.kind, error: (err as Error).message, ...journalled });
    }
  });
  root.get('/metrics', async (_req, res) => {
    ctx.metrics.phones.set(ctx.phones.size);
    let openCalls = 0;
    for (const phone of ctx.phones.values()) openCalls += phone.calls.length;
    ctx.metrics.openCalls.set(openCalls);
    ctx.metrics.checkpointLag.set(ctx.mode.checkpointLag);
    const writes = ctx.store.writeTotals?.();
    if (writes) {
      ctx.metrics.sqliteTransactions.setTotal(writes.transactions);
      ctx.metrics.sqliteStatements.setTotal(writes.statements);
    }
    const { registry } = ctx.metrics;
    res.send(200, await registry.render(), { 'Content-Type': registry.contentType });
  });
  // Wrong admin tokens per source address, as on the sign-in form: a token cannot be guessed at speed.
  const guesses = new LoginThrottle();
  /** Answers (and returns false) when the Host is not this receiver's in the default access mode. */
  const ownHost = (req: HttpRequest, res: HttpResponse): boolean => {
    const refusal = ctx.settings.trustLocal ? opts.ownHosts?.refusal(req.headers.host) : undefined;
    if (refusal) res.json(421, { error: refusal });
    return refusal === undefined;
  };
  root.add('*', '/api/*', (req, res) => {
    if (!ownHost(req, res)) return;
    const { adminToken, trustLocal } = ctx.settings;
    // The dashboard's pages call the API with their sign-in cookie; scripts send the token; by default a
    // client on this machine needs neither.
    const withoutToken = adminToken === undefined || (trustLocal === true && isLocalClient(req)) || opts.dashboard?.signedIn(req) === true;
    const presented = withoutToken ? null : presentedToken(req);
    const at = ctx.now();
    if (presented !== null && guesses.blocked(req.remoteAddress, at)) {
      const wait = guesses.retryAfter(req.remoteAddress, at);
      res.json(429, { error: `too many wrong admin tokens from ${req.remoteAddress}; try again in ${wait} s` }, { 'Retry-After': String(wait) });
      return;
    }
    const tokenOk = presented !== null && equalSecrets(presented, adminToken!);
    if (presented !== null && !tokenOk) guesses.fail(req.remoteAddress, at);
    const allowed = withoutToken || tokenOk;
    if (!allowed) {
      const how = presented !== null
        ? 'the admin token sent is not accepted: check it (the token is in the sign-in link the receiver printed at start, or --admin-token)'
        : trustLocal
        ? 'admin token required from other machines: send Authorization: Bearer <token> (the token is in the sign-in link the receiver printed at start)'
        : 'admin token required: send Authorization: Bearer <token>';
      res.json(401, { error: how }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    return apiHandler(req, res);
  });
  root.get('/provision/:file', (req, res, params) => {
    if (opts.allowlist && !opts.allowlist.allows(req.remoteAddress)) {
      res.json(403, { error: `source address ${req.remoteAddress} is not allowed` });
      return;
    }
    const file = provisionFile(req, params.file, ctx.settings);
    if ('error' in file) res.json(file.status, { error: file.error });
    else res.send(200, file.text, { 'Content-Type': file.contentType, 'Cache-Control': 'no-store' });
  });

  // The dashboard's answers compressed for browsers that accept it, like the API's.
  const dashboard = opts.dashboard && withCompression(opts.dashboard.handler);
  const web: HttpHandler | undefined = dashboard && ((req, res) => (ownHost(req, res) ? dashboard(req, res) : undefined));
  const notFound: HttpHandler = web ?? ((req, res) => res.json(404, { error: `not found: ${req.path}` }));
  const handler = root.handler(notFound);

  const failed = (req: HttpRequest, res: HttpResponse, err: unknown): void => {
    if (res.sent) throw err;
    if (err instanceof ParamError) {
      res.json(400, { error: err.message });
      return;
    }
    if (err instanceof StoreUnavailableError) {
      res.json(503, { error: err.message }, { 'Retry-After': '5' });
      return;
    }
    if (isConnectionError(err)) {
      // A read while PostgreSQL is away (events are still taken, into the journal).
      res.json(503, { error: 'the database cannot be reached right now; try again in a moment' }, { 'Retry-After': '5' });
      return;
    }
    ctx.logger.error({ err, path: req.path }, 'request failed');
    res.json(500, { error: 'internal error' });
  };
  // Like an async function around the handler (always a promise; a throw or rejection is answered by
  // `failed`), without an extra async frame and await per request.
  return (req: HttpRequest, res: HttpResponse): Promise<void> => {
    let result: void | Promise<void>;
    try {
      result = handler(req, res);
    } catch (err) {
      try {
        failed(req, res, err);
        return RESOLVED;
      } catch (rethrown) {
        return Promise.reject(rethrown);
      }
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).then(undefined, (err: unknown) => failed(req, res, err));
    }
    return RESOLVED;
  };
}

/** `work`'s result, or an error with `message` when it takes longer than `ms` (the work itself goes on). */
function withinMs<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  work.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
