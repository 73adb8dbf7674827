/**
 * The phone's own web server: the login page, Phone → Action URL, the panel, the delivery log, config file
 * download/upload, and the JSON control API. Every response carries a strict CSP (no inline script or
 * style); every value on a page is escaped.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { lint } from '../../core/templates.ts';
import { isIncidentSlug } from '../../core/catalog.ts';
import { getVendorCodec, isVendorId } from '../../core/vendors/index.ts';
import { parseStep } from '../engine/index.ts';
import type { Phone } from '../phone.ts';
import { checkConfig } from '../settings/action-url.ts';
import { isRefused, loadConfigText, saveConfigText } from '../settings/config-file.ts';
import { isSameOriginPost } from '../../core/login-guard.ts';
import { isControlPath } from '../../core/control/index.ts';
import { RemoteControl, type RemoteControlOptions } from '../control/remote.ts';
import { Auth, type Session } from './auth.ts';
import { cookieValues } from '../../core/cookies.ts';
import { equalSecrets } from '../../core/secret-compare.ts';
import { configFromForm, stepFromForm } from './forms.ts';
import type { SafeHtml } from './html.ts';
import { parseMultipart } from './multipart.ts';
import { actionUrlPage, logPage, loginPage, panelLive, panelPage, passwordPage, type ActionUrlView, type PageContext } from './pages.ts';
import { remoteControlPage } from './remote-page.ts';

export interface PhoneWebOptions {
  port?: number;
  host?: string;
  username?: string;
  password?: string;
  /** Remote control: who may send commands (`any`, addresses, patterns; default nobody) and whether to ask first. */
  remoteControl?: RemoteControlOptions;
}

export interface PhoneWeb {
  url: string;
  port: number;
  auth: Auth;
  /** The phone's remote-control endpoint and its settings. */
  control: RemoteControl;
  close(): Promise<void>;
}

const STATIC: Record<string, { type: string; body: Buffer }> = {
  '/static/phone.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./static/phone.js', import.meta.url)) },
  '/static/phone.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./static/phone.css', import.meta.url)) },
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  // Not `no-referrer`: that makes browsers send `Origin: null` on our own form posts, which login checks.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const MAX_BODY = 2 * 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Req {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  query: URLSearchParams;
  session?: Session;
  /** Authorised for the API (session or basic credentials). */
  apiAuthorised: boolean;
}

/** Listening on every address, the phone reports the one a LAN sees first: an external IPv4, else loopback. */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function startPhoneWeb(phone: Phone, opts: PhoneWebOptions = {}): Promise<PhoneWeb> {
  const auth = new Auth(opts.username ?? 'admin', opts.password ?? 'admin');
  const control = new RemoteControl(phone, auth, phone.identity.vendor, opts.remoteControl);
  const server = http.createServer((req, res) => {
    handle(phone, auth, control, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${message}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';
  // `$ip` is where the phone answers: a receiver that is told to use it reaches this web server.
  phone.adoptAddress(opts.host === '0.0.0.0' || opts.host === '::' ? lanAddress() : host);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    auth,
    control,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const sendHtml = (res: http.ServerResponse, status: number, page: SafeHtml, extra: Record<string, string> = {}) =>
  send(res, status, 'text/html; charset=utf-8', page.text, extra);
const sendJson = (res: http.ServerResponse, status: number, value: unknown) =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
const redirect = (res: http.ServerResponse, to: string, extra: Record<string, string> = {}) =>
  send(res, 303, 'text/plain; charset=utf-8', '', { Location: to, ...extra });

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readForm(r: Req): Promise<URLSearchParams> {
  const fields = new URLSearchParams((await readBody(r.req)).toString('utf8'));
  if (!r.session || !equalSecrets(fields.get('csrf') ?? undefined, r.session.csrf)) throw new HttpError(403, 'form expired: reload the page');
  return fields;
}

async function readJson(r: Req): Promise<unknown> {
  // A JSON content type cannot be sent cross-site without a preflight, so a logged-in browser cannot be
  // made to drive the phone from another page.
  if (!/^application\/json\b/i.test(r.req.headers['content-type'] ?? '')) throw new HttpError(415, 'send application/json');
  const origin = r.req.headers.origin;
  if (origin && origin !== `http://${r.req.headers.host}`) throw new HttpError(403, 'cross-origin request refused');
  try {
    return JSON.parse((await readBody(r.req)).toString('utf8'));
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, 'body is not JSON');
  }
}

function ctxOf(phone: Phone, r: Req): PageContext {
  const s = r.session!;
  const flash = s.flash;
  s.flash = undefined;
  return { phone, csrf: s.csrf, ...(flash ? { flash } : {}) };
}

function savedView(phone: Phone): ActionUrlView {
  const check = checkConfig(phone.config);
  return { config: phone.config, errors: check.errors, warnings: check.warnings };
}

async function handle(phone: Phone, auth: Auth, control: RemoteControl, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://phone');
  const method = req.method ?? 'GET';
  const session = auth.get(cookieValues(req.headers.cookie, 'sid')[0]);
  const address = req.socket.remoteAddress ?? '';
  const r: Req = { req, res, path: url.pathname, query: url.searchParams, ...(session ? { session } : {}), apiAuthorised: Boolean(session) };
  const key = `${method} ${url.pathname}`;

  const file = STATIC[url.pathname];
  if (file && method === 'GET') return send(res, 200, file.type, file.body, { 'Cache-Control': 'no-cache' });

  // The vendor's remote-control endpoint: its own authentication, no session or page involved.
  if (method === 'GET' && isControlPath(control.vendor, url.pathname)) {
    const answer = control.handle({
      address, path: url.pathname, params: url.searchParams, target: req.url ?? url.pathname,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    return send(res, answer.status, answer.contentType, answer.body, answer.headers);
  }

  if (key === 'GET /favicon.ico') return send(res, 204, 'image/x-icon', '');
  if (key === 'GET /login') return sendHtml(res, 200, loginPage());
  if (key === 'POST /login') {
    // A page on another site must not be able to log a visitor's browser in (login CSRF).
    if (!isSameOriginPost(req.headers)) throw new HttpError(403, 'cross-site login refused');
    const fields = new URLSearchParams((await readBody(req)).toString('utf8'));
    const outcome = auth.attempt(address, fields.get('username') ?? '', fields.get('password') ?? '');
    if (outcome === 'blocked') return tooManyLogins(res, auth.retryAfter(address), 'html');
    if (outcome === 'wrong') return sendHtml(res, 401, loginPage('Wrong user name or password.'));
    const s = auth.create();
    return redirect(res, '/panel', { 'Set-Cookie': `sid=${s.id}; HttpOnly; SameSite=Strict; Path=/` });
  }

  if (url.pathname.startsWith('/api/')) {
    if (!session) {
      const basic = auth.basic(req.headers.authorization, address);
      if (basic === 'blocked') return tooManyLogins(res, auth.retryAfter(address), 'json');
      r.apiAuthorised = basic === 'ok';
    }
    if (!r.apiAuthorised) {
      res.setHeader('WWW-Authenticate', 'Basic realm="phone"');
      return sendJson(res, 401, { error: 'log in, or send the admin credentials as basic auth' });
    }
    return api(phone, r, key);
  }

  if (!session) return redirect(res, '/login');
  switch (key) {
    case 'GET /':
      return redirect(res, '/panel');
    case 'POST /logout':
      await readForm(r);
      auth.end(session.id);
      return redirect(res, '/login', { 'Set-Cookie': 'sid=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
    case 'GET /panel':
      return sendHtml(res, 200, panelPage(ctxOf(phone, r)));
    case 'GET /panel/live':
      return sendHtml(res, 200, panelLive(phone));
    case 'POST /panel/action': {
      const stepped = stepFromForm(await readForm(r));
      if ('error' in stepped) session.flash = { kind: 'error', text: stepped.error };
      else if (stepped.do === 'wait') session.flash = { kind: 'error', text: 'wait belongs to scenarios' };
      else {
        const out = phone.act(stepped);
        session.flash = 'error' in out
          ? { kind: 'error', text: `${stepped.do}: ${out.error}` }
          : { kind: 'ok', text: `${stepped.do}: ${out.incidents.map((i) => i.slug).join(', ') || 'no incident'}` };
      }
      return redirect(res, '/panel');
    }
    case 'GET /actionurl':
      return sendHtml(res, 200, actionUrlPage(ctxOf(phone, r), savedView(phone)));
    case 'POST /actionurl': {
      const config = configFromForm(await readForm(r));
      const check = phone.setConfig(config);
      if (!check.ok) return sendHtml(res, 422, actionUrlPage(ctxOf(phone, r), { config, errors: check.errors, warnings: check.warnings }));
      session.flash = { kind: 'ok', text: `Saved: Action URL ${config.enabled ? 'enabled' : 'disabled'}, ${Object.keys(config.urls).length} URLs.` };
      return redirect(res, '/actionurl');
    }
    case 'GET /config/download':
      return download(phone, r);
    case 'POST /config/upload':
      return upload(phone, r);
    case 'GET /log':
      return sendHtml(res, 200, logPage(ctxOf(phone, r)));
    case 'GET /remote':
      return sendHtml(res, 200, remoteControlPage(ctxOf(phone, r), control));
    case 'POST /remote': {
      const f = await readForm(r);
      const problem = control.configure(f.get('allow') ?? '', f.get('prompt') === '1');
      if (problem) return sendHtml(res, 422, remoteControlPage(ctxOf(phone, r), control, problem.error));
      session.flash = { kind: 'ok', text: `Saved: remote control allowed from ${control.allow || 'nobody'}${control.prompt ? ', asking first' : ''}.` };
      return redirect(res, '/remote');
    }
    case 'POST /remote/prompt': {
      const f = await readForm(r);
      const address = f.get('address') ?? '';
      const allow = f.get('allow') === '1';
      session.flash = control.answerPrompt(address, allow)
        ? { kind: 'ok', text: `Remote control from ${address} ${allow ? 'allowed' : 'refused'}.` }
        : { kind: 'error', text: 'that request is no longer waiting' };
      return redirect(res, '/remote');
    }
    case 'GET /password':
      return sendHtml(res, 200, passwordPage(ctxOf(phone, r)));
    case 'POST /password': {
      const f = await readForm(r);
      const next = f.get('next') ?? '';
      let problem: string | undefined;
      if (!auth.check(auth.username, f.get('current') ?? '')) problem = 'The current password is wrong.';
      else if (next.length < 4) problem = 'The new password needs at least 4 characters.';
      else if (next !== f.get('again')) problem = 'The two new passwords differ.';
      if (problem) return sendHtml(res, 422, passwordPage(ctxOf(phone, r), problem));
      auth.setPassword(next);
      return redirect(res, '/login', { 'Set-Cookie': 'sid=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
    }
    default:
      throw new HttpError(404, 'not found');
  }
}

/** 429 for an address that got the password wrong too often; nothing was checked. */
function tooManyLogins(res: http.ServerResponse, seconds: number, as: 'html' | 'json'): void {
  const text = `Too many wrong logins from this address; try again in ${seconds} s.`;
  const extra = { 'Retry-After': String(Math.max(1, seconds)) };
  if (as === 'json') return send(res, 429, 'application/json; charset=utf-8', `${JSON.stringify({ error: text })}\n`, extra);
  return sendHtml(res, 429, loginPage(text), extra);
}

/** The settings as a vendor's config file, named as that vendor's phone asks for it. */
function download(phone: Phone, r: Req): void {
  const vendor = r.query.get('vendor') ?? '';
  if (!isVendorId(vendor)) throw new HttpError(400, 'unknown vendor');
  const rendered = saveConfigText(phone.config, vendor, phone.mac);
  const name = rendered.fileName ?? `${phone.mac}.cfg`;
  return send(r.res, 200, `${name.endsWith('.xml') ? 'application/xml' : 'text/plain'}; charset=utf-8`, rendered.text, {
    'Content-Disposition': `attachment; filename="${name}"`,
  });
}

async function upload(phone: Phone, r: Req): Promise<void> {
  const body = await readBody(r.req);
  const parts = await parseMultipart(body, r.req.headers['content-type'] ?? '');
  if (!parts) throw new HttpError(400, 'expected a multipart form');
  const field = (name: string) => parts.find((p) => p.name === name);
  const session = r.session!;
  if (!equalSecrets(field('csrf')?.data.toString('utf8'), session.csrf)) throw new HttpError(403, 'form expired: reload the page');
  const file = field('file');
  const vendor = field('vendor')?.data.toString('utf8') ?? '';
  if (!file || file.data.length === 0) {
    return sendHtml(r.res, 422, actionUrlPage(ctxOf(phone, r), { ...savedView(phone), uploadProblems: { error: 'no file chosen', problems: [] } }));
  }
  const loaded = loadConfigText(new TextDecoder('utf-8').decode(file.data), {
    ...(isVendorId(vendor) ? { vendor } : {}),
    ...(file.filename ? { fileName: file.filename } : {}),
  });
  if (isRefused(loaded)) return sendHtml(r.res, 422, actionUrlPage(ctxOf(phone, r), { ...savedView(phone), uploadProblems: loaded }));
  phone.setConfig(loaded.config);
  session.flash = {
    kind: 'ok',
    text: `Loaded ${getVendorCodec(loaded.vendor).label} file: Action URL ${loaded.config.enabled ? 'enabled' : 'disabled'}, ${Object.keys(loaded.config.urls).length} URLs.${loaded.notes.length ? ` Notes: ${loaded.notes.join('; ')}` : ''}`,
  };
  return redirect(r.res, '/actionurl');
}

async function api(phone: Phone, r: Req, key: string): Promise<void> {
  switch (key) {
    case 'GET /api/state':
      return sendJson(r.res, 200, { identity: phone.identity, state: phone.state, mode: phone.mode, config: phone.config });
    case 'GET /api/log':
      return sendJson(r.res, 200, { deliveries: phone.deliveries(), incidents: phone.firedLog() });
    case 'POST /api/action': {
      const s = parseStep(await readJson(r));
      if ('error' in s) return sendJson(r.res, 400, { error: s.error });
      if (s.do === 'wait') return sendJson(r.res, 400, { error: 'wait belongs to scenarios; the phone runs in real time' });
      const out = phone.act(s);
      if ('error' in out) return sendJson(r.res, 409, { error: out.error });
      return sendJson(r.res, 200, { incidents: out.incidents, deliveries: await Promise.all(out.deliveries) });
    }
    case 'GET /api/config':
      return sendJson(r.res, 200, phone.config);
    case 'GET /api/config/file':
      return download(phone, r);
    case 'PUT /api/config': {
      const body = (await readJson(r)) as { enabled?: unknown; urls?: unknown };
      if (typeof body !== 'object' || body === null || typeof body.enabled !== 'boolean' || typeof body.urls !== 'object' || body.urls === null
        || Object.values(body.urls).some((v) => typeof v !== 'string')) {
        return sendJson(r.res, 400, { error: 'expected {"enabled": true|false, "urls": {"<incident>": "<url>", …}}' });
      }
      const check = phone.setConfig({ enabled: body.enabled, urls: body.urls as Record<string, string> });
      return sendJson(r.res, check.ok ? 200 : 422, check.ok ? { config: phone.config, warnings: check.warnings } : check);
    }
    case 'POST /api/lint': {
      const body = (await readJson(r)) as { slug?: unknown; url?: unknown };
      if (typeof body?.url !== 'string' || typeof body.slug !== 'string' || !isIncidentSlug(body.slug)) {
        return sendJson(r.res, 400, { error: 'expected {"slug": "<incident>", "url": "<template>"}' });
      }
      return sendJson(r.res, 200, body.url.trim() === '' ? { ok: true, errors: [], warnings: [] } : lint(body.url, body.slug));
    }
    default:
      return sendJson(r.res, 404, { error: 'not found' });
  }
}
