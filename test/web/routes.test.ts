import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { getVendorCodec, supportedIncidents, VENDOR_IDS } from '../../src/core/vendors/index.ts';
import { createSessionValue, sessionCookieName } from '../../src/web/auth.ts';
import { createWebHandler } from '../../src/web/routes.ts';
import { phoneToken } from '../../src/core/phone-token.ts';
import { call, request } from './fake-http.ts';

const handler = createWebHandler({});

/** The versioned asset URLs the app shell refers to. */
async function shellAssetUrls(): Promise<string[]> {
  const res = await call(handler, request('GET', '/'));
  return [...res.text.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
}

describe('dashboard handler: pages and assets', { timeout: 120_000 }, () => {
  it('serves the app shell with a strict CSP and nosniff', async () => {
    const res = await call(handler, request('GET', '/'));
    assert.equal(res.status, 200);
    assert.equal(res.header('content-type'), 'text/html; charset=utf-8');
    const csp = res.header('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.header('x-content-type-options'), 'nosniff');
    assert.equal(res.header('cache-control'), 'no-cache');
  });

  it('has no inline script or style in any page, and each page carries the strict CSP', async () => {
    // Signed in, so `/` is the app shell itself and not the redirect to the login page.
    const guarded = createWebHandler({ adminToken: 't' });
    const cookie = `${sessionCookieName('t')}=${createSessionValue('t')}`;
    const pages = [
      { path: '/', page: await call(handler, request('GET', '/')) },
      { path: '/ (signed in)', page: await call(guarded, request('GET', '/', { cookie })) },
      { path: '/login', page: await call(guarded, request('GET', '/login')) },
    ];
    for (const { path, page: res } of pages) {
      assert.equal(res.status, 200, path);
      assert.equal(res.header('content-type'), 'text/html; charset=utf-8', path);
      assert.match(res.text, /<script[^>]*\bsrc="\/static\//, `${path} loads its script from /static/`);
      assert.match(res.header('content-security-policy') ?? '', /script-src 'self'(;|$)/, path);
      assert.doesNotMatch(res.text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${path} has an inline script`);
      assert.doesNotMatch(res.text, /<style|\sstyle=|\son[a-z]+=/i, `${path} has inline style or handlers`);
    }
  });

  it('serves versioned assets with their content type and long caching', async () => {
    const urls = await shellAssetUrls();
    assert.ok(urls.some((u) => u.endsWith('/app.css')));
    assert.ok(urls.some((u) => u.endsWith('/js/app.js')));
    const expected: Record<string, string> = {
      css: 'text/css; charset=utf-8',
      js: 'text/javascript; charset=utf-8',
      svg: 'image/svg+xml',
    };
    for (const url of urls) {
      const res = await call(handler, request('GET', url));
      assert.equal(res.status, 200, url);
      assert.equal(res.header('content-type'), expected[url.split('.').pop()!], url);
      assert.equal(res.header('cache-control'), 'public, max-age=31536000, immutable', url);
      assert.ok(res.header('content-security-policy'), url);
      assert.equal(res.header('x-content-type-options'), 'nosniff', url);
    }
  });

  it('resolves relative module imports under the same version', async () => {
    const app = (await shellAssetUrls()).find((u) => u.endsWith('/js/app.js'))!;
    const appText = (await call(handler, request('GET', app))).text;
    const imports = [...appText.matchAll(/from '(\.\/[^']+)'/g)].map((m) => m[1]);
    assert.ok(imports.length > 3);
    for (const rel of imports) {
      const url = new URL(rel, `http://x${app}`).pathname;
      const res = await call(handler, request('GET', url));
      assert.equal(res.status, 200, url);
      assert.equal(res.header('content-type'), 'text/javascript; charset=utf-8');
    }
  });

  it('answers an old version with the current file, not cached for long', async () => {
    const res = await call(handler, request('GET', '/static/000000000000/app.css'));
    assert.equal(res.status, 200);
    assert.equal(res.header('cache-control'), 'no-cache');
  });

  it('revalidates with ETag and compresses for clients that accept gzip', async () => {
    const url = (await shellAssetUrls()).find((u) => u.endsWith('/app.css'))!;
    const first = await call(handler, request('GET', url));
    const etag = first.header('etag')!;
    assert.ok(etag);
    const again = await call(handler, request('GET', url, { 'if-none-match': etag }));
    assert.equal(again.status, 304);
    const gz = await call(handler, request('GET', url, { 'accept-encoding': 'gzip, br' }));
    assert.equal(gz.header('content-encoding'), 'gzip');
    assert.equal(gunzipSync(gz.body).toString('utf8'), first.text);
  });

  it('answers HEAD like GET', async () => {
    const res = await call(handler, request('HEAD', '/'));
    assert.equal(res.status, 200);
    assert.equal(res.header('content-type'), 'text/html; charset=utf-8');
  });

  it('returns 404 as JSON for API clients and as text otherwise, with the security headers', async () => {
    const json = await call(handler, request('GET', '/nope', { accept: 'application/json' }));
    assert.equal(json.status, 404);
    assert.match(json.header('content-type')!, /^application\/json/);
    assert.deepEqual(JSON.parse(json.text), { error: 'not found' });
    assert.ok(json.header('content-security-policy'));
    const text = await call(handler, request('GET', '/static/../../package.json'));
    assert.equal(text.status, 404);
    assert.match(text.header('content-type')!, /^text\/plain/);
    for (const path of ['/static/', '/static/x/does-not-exist.js', '/ui/nothing', '/favicon.ico', '/%00']) {
      assert.equal((await call(handler, request('GET', path))).status, 404, path);
    }
  });

  it('refuses other methods with 405 and Allow', async () => {
    const res = await call(handler, request('DELETE', '/'));
    assert.equal(res.status, 405);
    assert.equal(res.header('allow'), 'GET, HEAD');
  });

  it('serves the incident catalog for names on the pages', async () => {
    const res = await call(handler, request('GET', '/ui/catalog.json'));
    const body = JSON.parse(res.text);
    assert.equal(body.incidents.length, 34);
    assert.deepEqual(body.incidents[8], {
      n: 9, slug: 'call_established', name: 'Established', description: 'The conversation is set up', kind: 'call',
    });
  });
});

describe('dashboard handler: set-up', { timeout: 120_000 }, () => {
  const setupHandler = createWebHandler({ publicUrl: () => 'http://10.0.0.5:8080/', ingestToken: 's3cret' });

  it('lists a URL template per incident, pointing at the public URL with the ingest token', async () => {
    const res = await call(setupHandler, request('GET', '/ui/setup.json'));
    assert.equal(res.status, 200);
    assert.equal(res.header('cache-control'), 'no-store');
    const body = JSON.parse(res.text);
    assert.equal(body.server, 'http://10.0.0.5:8080');
    assert.equal(body.server_source, 'configured');
    assert.equal(body.incidents.length, 34);
    const incoming = body.incidents.find((i: { slug: string }) => i.slug === 'incoming_call');
    assert.match(incoming.template, /^http:\/\/10\.0\.0\.5:8080\/actionurl\/incoming_call\?mac=\$mac&.*&token=s3cret&remote=\$remote&display_remote=\$display_remote$/);
    assert.deepEqual(body.vendors.map((v: { id: string }) => v.id), ['yealink', 'akuvox', 'fanvil', 'snom', 'grandstream']);
  });

  it('falls back to the address the browser used when no public URL is configured', async () => {
    const res = await call(handler, request('GET', '/ui/setup.json', { host: '192.168.1.20:9000' }));
    const body = JSON.parse(res.text);
    assert.equal(body.server, 'http://192.168.1.20:9000');
    assert.equal(body.server_source, 'request');
    assert.equal(body.token, null);
  });

  it('downloads a config file per vendor that the vendor codec reads back', async () => {
    for (const vendor of VENDOR_IDS) {
      const res = await call(setupHandler, request('GET', `/ui/config/${vendor}?mac=00:15:65:AA:BB:CC`));
      assert.equal(res.status, 200, vendor);
      assert.match(res.header('content-disposition')!, /^attachment; filename="[A-Za-z0-9._-]+"$/);
      const read = getVendorCodec(vendor).read(res.text);
      assert.equal(read.error, undefined, vendor);
      assert.deepEqual(Object.keys(read.config.urls).sort(), supportedIncidents(vendor).sort(), vendor);
      for (const url of Object.values(read.config.urls)) assert.match(url, /^http:\/\/10\.0\.0\.5:8080\/actionurl\/.*token=s3cret/);
    }
  });

  it('names the file as the phone asks for it', async () => {
    const res = await call(setupHandler, request('GET', '/ui/config/yealink?mac=00-15-65-aa-bb-cc'));
    assert.equal(res.header('content-disposition'), 'attachment; filename="001565aabbcc.cfg"');
    const common = await call(setupHandler, request('GET', '/ui/config/yealink'));
    assert.equal(common.header('content-disposition'), 'attachment; filename="y000000000000.cfg"');
    const v2 = await call(setupHandler, request('GET', '/ui/config/grandstream?format=v2&mac=001565aabbcc'));
    assert.equal(v2.status, 200);
    assert.match(v2.text, /ons\.actionUrl\.incomingCall/);
  });

  it('refuses unknown vendors, bad MACs and unknown formats with a reason', async () => {
    assert.equal((await call(setupHandler, request('GET', '/ui/config/nokia'))).status, 404);
    const bad = await call(setupHandler, request('GET', '/ui/config/yealink?mac=hello'));
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).error, /not a MAC/);
    assert.equal((await call(setupHandler, request('GET', '/ui/config/yealink?format=xml'))).status, 400);
  });
});

describe('dashboard handler: admin token sign-in', { timeout: 120_000 }, () => {
  const TOKEN = 'let-me-in';
  const guarded = createWebHandler({ adminToken: TOKEN, ingestToken: 'ingest' });
  const form = (body: string, headers: Record<string, string> = {}) =>
    request('POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body);

  it('sends a browser without a session to the login page', async () => {
    const res = await call(guarded, request('GET', '/'));
    assert.equal(res.status, 303);
    assert.equal(res.header('location'), '/login');
    const page = await call(guarded, request('GET', '/login'));
    assert.equal(page.status, 200);
    assert.match(page.text, /<form method="post" action="\/login">/);
    assert.ok(page.header('content-security-policy'));
  });

  it('sets an HttpOnly SameSite=Strict session cookie for the right token', async () => {
    const res = await call(guarded, form(`token=${TOKEN}&next=%23%2Fcalls`));
    assert.equal(res.status, 303);
    assert.equal(res.header('location'), '/#/calls');
    const cookie = res.header('set-cookie')!;
    assert.match(cookie, new RegExp(`^${sessionCookieName(TOKEN)}=v1\\.\\d+\\.[A-Za-z0-9_-]{43}; `));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, new RegExp(TOKEN));
    const value = cookie.split(';')[0];
    const page = await call(guarded, request('GET', '/', { cookie: value }));
    assert.equal(page.status, 200);
  });

  it('marks the cookie Secure when the dashboard is reached over HTTPS', async () => {
    const res = await call(guarded, form(`token=${TOKEN}`, { 'x-forwarded-proto': 'https' }));
    assert.match(res.header('set-cookie')!, /; Secure/);
  });

  it('refuses a wrong token without setting a cookie, and never redirects off-site', async () => {
    const res = await call(guarded, form('token=guess&next=%2F%2Fevil.example'));
    assert.equal(res.status, 303);
    assert.equal(res.header('location'), '/login?error=1');
    assert.equal(res.header('set-cookie'), undefined);
    const offsite = await call(guarded, form(`token=${TOKEN}&next=%2F%2Fevil.example`));
    assert.equal(offsite.header('location'), '/');
  });

  it('stops answering wrong tokens from an address that keeps guessing', async () => {
    const own = createWebHandler({ adminToken: TOKEN });
    const guess = (from: string, token: string) =>
      call(own, { ...form(`token=${token}`), remoteAddress: from });
    for (let i = 0; i < 10; i++) assert.equal((await guess('10.0.0.66', `guess${i}`)).status, 303);
    const blocked = await guess('10.0.0.66', TOKEN);
    assert.equal(blocked.status, 429);
    assert.equal(blocked.header('set-cookie'), undefined);
    const wait = Number(blocked.header('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${blocked.header('retry-after')}`);
    // Others are not affected.
    assert.match((await guess('10.0.0.67', TOKEN)).header('set-cookie')!, /^actionurl_session_[0-9a-f]{10}=/);
  });

  it('refuses a sign-in posted from another site', async () => {
    const res = await call(guarded, form(`token=${TOKEN}`, { origin: 'http://evil.example' }));
    assert.equal(res.status, 403);
    assert.equal(res.header('set-cookie'), undefined);
    const crossSite = await call(guarded, form(`token=${TOKEN}`, { 'sec-fetch-site': 'cross-site' }));
    assert.equal(crossSite.status, 403);
    const ours = await call(guarded, form(`token=${TOKEN}`, { origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }));
    assert.equal(ours.status, 303);
  });

  it('keeps the set-up data (it holds the ingest token) behind the sign-in', async () => {
    assert.equal((await call(guarded, request('GET', '/ui/setup.json'))).status, 401);
    assert.equal((await call(guarded, request('GET', '/ui/config/yealink'))).status, 401);
    const cookie = `${sessionCookieName(TOKEN)}=${createSessionValue(TOKEN)}`;
    const ok = await call(guarded, request('GET', '/ui/setup.json', { cookie }));
    assert.equal(JSON.parse(ok.text).token, 'ingest');
    const bearer = await call(guarded, request('GET', '/ui/setup.json', { authorization: `Bearer ${TOKEN}` }));
    assert.equal(bearer.status, 200);
    const session = await call(guarded, request('GET', '/ui/session.json'));
    assert.deepEqual(JSON.parse(session.text), { auth: true, authorized: false, signed_in: false });
    // A session to end only with the sign-in cookie: a Bearer token lets a request in but is no session.
    assert.deepEqual(JSON.parse((await call(guarded, request('GET', '/ui/session.json', { cookie }))).text), { auth: true, authorized: true, signed_in: true });
    assert.deepEqual(JSON.parse((await call(guarded, request('GET', '/ui/session.json', { authorization: `Bearer ${TOKEN}` }))).text), { auth: true, authorized: true, signed_in: false });
  });

  it('signs out by clearing the cookie', async () => {
    const res = await call(guarded, request('POST', '/logout'));
    assert.equal(res.status, 303);
    assert.match(res.header('set-cookie')!, new RegExp(`^${sessionCookieName(TOKEN)}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`));
  });

  it('has no login page when no admin token is set', async () => {
    const res = await call(handler, request('GET', '/login'));
    assert.equal(res.status, 303);
    assert.equal(res.header('location'), '/');
  });
});

describe('dashboard handler: set-up with per-phone ingest tokens', { timeout: 120_000 }, () => {
  const secret = 'fleet-secret';
  const perPhone = createWebHandler({ publicUrl: () => 'http://10.0.0.5:8080', tokenSecret: secret });

  it('says tokens are per phone, and tells a signed-in page one phone\'s own token', async () => {
    const body = JSON.parse((await call(perPhone, request('GET', '/ui/setup.json'))).text);
    assert.equal(body.per_phone_tokens, true);
    assert.equal(body.token, null);
    const one = await call(perPhone, request('GET', '/ui/token.json?mac=00-15-65-AA-BB-CC'));
    assert.deepEqual(JSON.parse(one.text), { mac: '001565aabbcc', token: phoneToken(secret, '001565aabbcc') });
    assert.equal((await call(perPhone, request('GET', '/ui/token.json?mac=nope'))).status, 400);
    const guarded = createWebHandler({ adminToken: 'adm', tokenSecret: secret });
    assert.equal((await call(guarded, request('GET', '/ui/token.json?mac=001565aabbcc'))).status, 401);
    // No template fits every phone, so none carries a token.
    assert.ok(body.incidents.every((i: { template: string }) => !i.template.includes('token=')));
  });

  it('writes each phone\'s own token into its file, and refuses a common file', async () => {
    const res = await call(perPhone, request('GET', '/ui/config/yealink?mac=00:15:65:AA:BB:CC'));
    assert.equal(res.status, 200);
    assert.ok(res.text.includes(`token=${phoneToken(secret, '001565aabbcc')}`));
    const common = await call(perPhone, request('GET', '/ui/config/yealink'));
    assert.equal(common.status, 400);
    assert.match(common.text, /give the phone's MAC/);
  });
});
