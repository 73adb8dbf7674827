/**
 * The dashboard's HTTP handler. The receiver mounts it for `/` and every path that is not the REST API or
 * the ingest endpoint, passing its context (whose settings hold the tokens and the public URL); tests may
 * pass the three values directly. It serves the single-page app (hash-routed, so every page is `/`), its static assets,
 * the sign-in page when an admin token is set, and a few small JSON documents the pages need that the REST
 * API does not carry (catalog names, set-up templates, vendor config downloads).
 */
import { isSameOriginPost, LoginThrottle } from '../core/login-guard.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from '../http/types.ts';
import { loadAssets, type Asset, type AssetSet } from './assets.ts';
import {
  clearSessionSetCookie,
  isAuthorized,
  isAuthorizedByCookie,
  renewedSessionSetCookie,
  revokeSessions,
  sessionSetCookie,
} from './auth.ts';
import { securityHeaders } from './headers.ts';
import { catalogJson, configDownload, setupJson } from './setup.ts';
import { serverAddressOf } from '../http/server-url.ts';
import { ingestTokenFor } from '../core/phone-token.ts';
import { equalSecrets } from '../core/secret-compare.ts';
import { normalizeMac } from '../core/mac.ts';
import { isLocalClient } from '../core/local-client.ts';

export interface WebContext {
  /** When set, pages and their data need a sign-in (session cookie) or `Authorization: Bearer`. */
  adminToken?: string;
  /** The base URL phones reach the receiver at, for the Set-up page; else the address the browser used. */
  publicUrl?: () => string;
  /** The ingest token phones must send, shown in the Set-up page's templates and config files. */
  ingestToken?: string;
  /** The secret each phone's own ingest token derives from (`serve --token-secret`). */
  tokenSecret?: string;
  /** Browsers on this machine (loopback, not through a proxy) get in without signing in. */
  trustLocal?: boolean;
}

/** The receiver's context (src/server/context.ts), as far as the dashboard reads it: its settings. */
export interface ReceiverContextLike {
  readonly settings: {
    readonly adminToken?: string;
    /** The ingest token. */
    readonly token?: string;
    readonly tokenSecret?: string;
    readonly publicUrl?: string;
    readonly trustLocal?: boolean;
  };
}

/** Reads the receiver's settings on every request, so the dashboard follows them if they change. */
function dashboardSettings(ctx: WebContext | ReceiverContextLike): WebContext {
  if (!('settings' in ctx)) return ctx;
  const { settings } = ctx;
  return {
    get adminToken() {
      return settings.adminToken;
    },
    get ingestToken() {
      return settings.token;
    },
    get tokenSecret() {
      return settings.tokenSecret;
    },
    get trustLocal() {
      return settings.trustLocal;
    },
    publicUrl: () => settings.publicUrl ?? '',
  };
}

export interface WebHandlerOptions {
  /** The asset set to serve (tests); default: `src/web/static/`. */
  assets?: AssetSet;
}

/** Largest login form we read; a token is a few dozen characters. */
const MAX_LOGIN_BODY = 8192;

/** Where a sign-in may send the browser back to: an app route in the fragment, nothing else. */
const SAFE_NEXT = /^#\/[A-Za-z0-9/_.:%-]{0,200}$/;

export function createWebHandler(context: WebContext | ReceiverContextLike, options: WebHandlerOptions = {}): HttpHandler {
  const ctx = dashboardSettings(context);
  const assets = options.assets ?? loadAssets();
  const index = assets.files.get('index.html');
  const login = assets.files.get('login.html');
  if (!index || !login) throw new Error('dashboard assets are missing index.html or login.html');
  const throttle = new LoginThrottle();

  return (req, res) => {
    const adminToken = ctx.adminToken || undefined;
    const reply = new Reply(req, res);
    const path = req.path;
    const get = req.method === 'GET' || req.method === 'HEAD';
    const signedIn = (ctx.trustLocal === true && isLocalClient(req)) || isAuthorized(req, adminToken);
    // A dashboard in use stays signed in: the page and its session check renew a cookie in its second half.
    if (path === '/' || path === '/index.html' || path === '/ui/session.json') {
      const renewed = renewedSessionSetCookie(req, adminToken, isHttps(req, ctx));
      if (renewed) reply.also({ 'Set-Cookie': renewed });
    }

    // The sign-in link the receiver prints (`/?token=…`): sign in, then drop the token from the address bar.
    if (get && (path === '/' || path === '/login') && adminToken && req.query.has('token')) {
      return handleLinkSignIn(reply, req, ctx, adminToken, throttle);
    }
    if (path === '/' || path === '/index.html') {
      if (!get) return reply.notAllowed('GET, HEAD');
      if (!signedIn) return reply.redirect('/login');
      return reply.asset(index, 'no-cache');
    }
    if (path.startsWith('/static/')) {
      if (!get) return reply.notAllowed('GET, HEAD');
      return serveStatic(reply, assets, path.slice('/static/'.length));
    }
    if (path === '/login') {
      if (req.method === 'POST') return handleLogin(reply, req, ctx, adminToken, throttle);
      if (!get) return reply.notAllowed('GET, HEAD, POST');
      if (!adminToken || signedIn) return reply.redirect('/');
      return reply.asset(login, 'no-cache');
    }
    if (path === '/logout') {
      if (req.method !== 'POST') return reply.notAllowed('POST');
      if (!isSameOriginPost(req.headers)) return reply.text(403, 'cross-site sign-out refused\n');
      revokeSessions(req, adminToken);
      return reply.redirect('/login', adminToken ? { 'Set-Cookie': clearSessionSetCookie(adminToken, isHttps(req, ctx)) } : {});
    }
    if (path === '/robots.txt') {
      if (!get) return reply.notAllowed('GET, HEAD');
      return reply.text(200, 'User-agent: *\nDisallow: /\n', { 'Cache-Control': 'public, max-age=86400' });
    }
    if (path.startsWith('/ui/')) {
      if (!get) return reply.notAllowed('GET, HEAD');
      return serveUi(reply, req, ctx, adminToken, signedIn, path.slice('/ui/'.length));
    }
    return reply.notFound();
  };
}

function serveStatic(reply: Reply, assets: AssetSet, rest: string): void {
  const slash = rest.indexOf('/');
  const version = slash > 0 ? rest.slice(0, slash) : '';
  const pinned = version !== '' ? assets.files.get(rest.slice(slash + 1)) : undefined;
  if (pinned) {
    // An old page may ask for an older version: it gets today's file, but must not keep it.
    const cache = version === assets.version ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.asset(pinned, cache);
  }
  const plain = assets.files.get(rest);
  if (plain) return reply.asset(plain, 'no-cache');
  return reply.notFound();
}

function serveUi(reply: Reply, req: HttpRequest, ctx: WebContext, adminToken: string | undefined, authorized: boolean, name: string): void {
  // `signed_in`: this browser has a session to end (its cookie), which is when the dashboard offers Sign out.
  // A browser on this machine is let in without one, and a Bearer token is no session.
  if (name === 'session.json') return reply.json(200, { auth: adminToken !== undefined, authorized, signed_in: isAuthorizedByCookie(req, adminToken) });
  if (name === 'catalog.json') return reply.json(200, catalogJson(), 'public, max-age=300');
  // Everything below carries the ingest token.
  if (!authorized) return reply.json(401, { error: 'sign in first' });
  const tokens = { token: ctx.ingestToken, tokenSecret: ctx.tokenSecret };
  if (name === 'setup.json') return reply.json(200, setupJson(shownServerAddress(req, ctx), tokens));
  if (name === 'token.json') {
    // The token one phone sends (its own, with per-phone tokens): what the "test it" button needs.
    const mac = normalizeMac(req.query.get('mac') ?? '');
    if (!mac) return reply.json(400, { error: 'give a MAC address: ?mac=00:15:65:aa:bb:cc' });
    return reply.json(200, { mac, token: ingestTokenFor(tokens, mac) ?? null });
  }
  const m = /^config\/([a-z]+)$/.exec(name);
  if (m) {
    const file = configDownload(m[1], req.query, shownServerAddress(req, ctx), tokens);
    if (!file.ok) return reply.json(file.status, { error: file.error });
    return reply.body(200, file.text, {
      'Content-Type': file.contentType,
      'Content-Disposition': `attachment; filename="${file.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'Cache-Control': 'no-store',
    });
  }
  return reply.notFound();
}

function handleLogin(
  reply: Reply,
  req: HttpRequest,
  ctx: WebContext,
  adminToken: string | undefined,
  throttle: LoginThrottle,
): void {
  if (!adminToken) return reply.redirect('/');
  if (!isSameOriginPost(req.headers)) return reply.text(403, 'cross-site sign-in refused\n');
  if (req.body.length > MAX_LOGIN_BODY) return reply.text(413, 'form too large\n');
  const now = Date.now();
  const wait = throttle.retryAfter(req.remoteAddress, now);
  if (wait > 0) return reply.text(429, 'too many wrong tokens from this address; try again in a minute\n', { 'Retry-After': String(wait) });
  const form = new URLSearchParams(req.body.toString('utf8'));
  const next = form.get('next') ?? '';
  const target = SAFE_NEXT.test(next) ? `/${next}` : '/';
  if (!equalSecrets(form.get('token'), adminToken)) {
    throttle.fail(req.remoteAddress, now);
    // Post/redirect/get: a reload of the error page does not resend the token.
    return reply.redirect(`/login?error=1${SAFE_NEXT.test(next) ? next : ''}`);
  }
  return reply.redirect(target, { 'Set-Cookie': sessionSetCookie(adminToken, isHttps(req, ctx)) });
}

/** `GET /?token=…`: the right token signs the browser in; a wrong one counts like a wrong login. */
function handleLinkSignIn(reply: Reply, req: HttpRequest, ctx: WebContext, adminToken: string, throttle: LoginThrottle): void {
  const now = Date.now();
  const wait = throttle.retryAfter(req.remoteAddress, now);
  if (wait > 0) return reply.text(429, 'too many wrong tokens from this address; try again in a minute\n', { 'Retry-After': String(wait) });
  if (!equalSecrets(req.query.get('token') ?? '', adminToken)) {
    throttle.fail(req.remoteAddress, now);
    return reply.redirect('/login?error=1');
  }
  return reply.redirect('/', { 'Set-Cookie': sessionSetCookie(adminToken, isHttps(req, ctx)) });
}

/** The receiver's address for the Set-up page and its downloads; the default port when the request has no usable host. */
function shownServerAddress(req: HttpRequest, ctx: WebContext) {
  return serverAddressOf(req, { publicUrl: ctx.publicUrl?.(), fallback: 'http://127.0.0.1:8080' });
}

function isHttps(req: HttpRequest, ctx: WebContext): boolean {
  if (req.secure || /^https$/i.test(req.headers['x-forwarded-proto'] ?? '')) return true;
  return /^https:/i.test(ctx.publicUrl?.() ?? '');
}

/** Response helpers: security headers on everything, ETag revalidation, gzip. */
class Reply {
  constructor(
    private readonly req: HttpRequest,
    private readonly res: HttpResponse,
  ) {}

  private extra: Record<string, string> = {};

  /** Headers added to whatever answer follows. */
  also(headers: Record<string, string>): void {
    this.extra = { ...this.extra, ...headers };
  }

  private send(status: number, body: string | Buffer, headers: Record<string, string>): void {
    const all = { ...securityHeaders(), ...this.extra, ...headers };
    // HEAD gets the GET body too: the receiver sends its length and drops the bytes.
    this.res.send(status, body, all);
  }

  body(status: number, body: string | Buffer, headers: Record<string, string>): void {
    this.send(status, body, headers);
  }

  asset(asset: Asset, cacheControl: string): void {
    const headers: Record<string, string> = {
      'Content-Type': asset.contentType,
      'Cache-Control': cacheControl,
      ETag: asset.etag,
      Vary: 'Accept-Encoding',
    };
    const inm = this.req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === asset.etag)) {
      return this.send(304, '', headers);
    }
    if (asset.gzip && /\bgzip\b/i.test(this.req.headers['accept-encoding'] ?? '')) {
      return this.send(200, asset.gzip, { ...headers, 'Content-Encoding': 'gzip' });
    }
    this.send(200, asset.body, headers);
  }

  json(status: number, value: unknown, cacheControl = 'no-store'): void {
    this.send(status, `${JSON.stringify(value)}\n`, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': cacheControl,
    });
  }

  text(status: number, text: string, headers: Record<string, string> = {}): void {
    this.send(status, text, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  }

  redirect(location: string, headers: Record<string, string> = {}): void {
    this.text(303, `see ${location}\n`, { Location: location, ...headers });
  }

  notAllowed(allow: string): void {
    this.text(405, 'method not allowed\n', { Allow: allow });
  }

  /** JSON for clients that ask for it (scripts, fetch), text otherwise. */
  notFound(): void {
    const accept = this.req.headers['accept'] ?? '';
    if (/application\/json/i.test(accept) && !/text\/html/i.test(accept)) return this.json(404, { error: 'not found' });
    this.text(404, 'not found\n');
  }
}
