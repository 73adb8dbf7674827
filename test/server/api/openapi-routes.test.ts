/**
 * The OpenAPI document and the routes the receiver serves are one list: every route its routers register is
 * described, and every path the document describes is served by the route written for it (not by a catch-all
 * or an earlier route that happens to match). The routes are read as the receiver registers them at start,
 * so a route cannot be added, or a schema left behind, without this failing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type RouteHandler } from '../../../src/http/router.ts';
import { startTestReceiver, type TestReceiver } from '../helpers/receiver.ts';

interface Registered { router: Router; methods: string | readonly string[]; pattern: string; handler: RouteHandler }
type Paths = Record<string, Record<string, unknown>>;

/** `/api/v1/phones/:mac` as the document writes it: `/api/v1/phones/{mac}`. */
const documented = (pattern: string) => pattern.replace(/:(\w+)/g, '{$1}');
const methodsOf = (route: Registered) => (route.methods === '*' ? '*' : typeof route.methods === 'string' ? [route.methods] : route.methods);
/** The prefix a `/prefix/*` route serves (itself and everything below it), else undefined. */
const prefixOf = (pattern: string) => (pattern.endsWith('/*') ? pattern.slice(0, -2) : undefined);
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** Registered routes the document does not describe, as `METHOD path`. */
function undescribed(routes: Registered[], paths: Paths): string[] {
  const missing: string[] = [];
  for (const route of routes) {
    const prefix = prefixOf(route.pattern);
    const items = prefix === undefined
      ? [paths[documented(route.pattern)]].filter((item) => item !== undefined)
      : Object.entries(paths).filter(([path]) => under(path, prefix)).map(([, item]) => item);
    const methods = methodsOf(route);
    if (methods === '*') {
      if (!items.some((item) => Object.keys(item).length > 0)) missing.push(`* ${route.pattern}`);
      continue;
    }
    for (const method of methods) {
      if (!items.some((item) => item[method.toLowerCase()])) missing.push(`${method} ${route.pattern}`);
    }
  }
  return missing;
}

/**
 * Described operations no route of theirs serves, as `METHOD path`: the path, its parameters filled in, must
 * resolve to the route registered for exactly that pattern (or to a `/*` route owning the whole prefix).
 */
function unserved(paths: Paths, routerFor: (path: string) => Router, routes: Registered[]): string[] {
  const missing: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    const router = routerFor(path);
    const own = routes.filter((r) => r.router === router && (documented(r.pattern) === path || under(path, prefixOf(r.pattern) ?? '\0')));
    for (const method of Object.keys(item)) {
      const found = router.resolve(method.toUpperCase(), path.replace(/\{(\w+)\}/g, 'p1'));
      if (!found || !('handler' in found) || !own.some((r) => r.handler === found.handler)) missing.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return missing;
}

describe('the OpenAPI document and the routes served', { timeout: 60_000 }, () => {
  let r: TestReceiver;
  let routes: Registered[];
  let paths: Paths;
  let api: Router;
  let root: Router;

  before(async () => {
    // Every route, as the receiver registers it while it starts.
    const registered: Registered[] = [];
    const add = Router.prototype.add;
    Router.prototype.add = function (this: Router, methods, pattern, handler) {
      registered.push({ router: this, methods, pattern, handler });
      return add.call(this, methods, pattern, handler);
    };
    try {
      r = await startTestReceiver();
    } finally {
      Router.prototype.add = add;
    }
    // The API router is the one behind the `/api/*` mount; the root router has that mount.
    api = registered.find((x) => x.pattern === '/api/v1/openapi.json')!.router;
    root = registered.find((x) => x.pattern === '/api/*')!.router;
    assert.notEqual(api, root);
    assert.deepEqual(new Set(registered.map((x) => x.router)), new Set([api, root]), 'the receiver has these two routers');
    // The `/api/*` mount passes requests to the API router, whose routes are checked one by one.
    routes = registered.filter((x) => !(x.router === root && x.pattern === '/api/*'));
    const answer = await r.api('/api/v1/openapi.json');
    assert.equal(answer.status, 200);
    paths = answer.body.paths;
  });
  after(async () => {
    await r.cleanup();
  });

  it('describes every route the receiver registers', () => {
    assert.ok(routes.filter((x) => x.router === api).length >= 25, `the API router's routes were seen (${routes.length})`);
    assert.deepEqual(undescribed(routes, paths), []);
  });

  it('serves every path it describes, each by its own route', () => {
    const routerFor = (path: string) => (under(path, '/api') ? api : root);
    assert.deepEqual(unserved(paths, routerFor, routes), []);
  });

  it('would notice a route without its schema, and a schema without its route', () => {
    const stray: Registered = { router: api, methods: 'POST', pattern: '/api/v1/phones/:mac/reboot', handler: () => {} };
    assert.deepEqual(undescribed([...routes, stray], paths), ['POST /api/v1/phones/:mac/reboot']);
    // A method the path's route does not take, and a path no route has.
    const more: Paths = { ...paths, '/api/v1/events': { ...paths['/api/v1/events'], delete: {} }, '/api/v1/nothing': { get: {} } };
    assert.deepEqual(unserved(more, (path) => (under(path, '/api') ? api : root), routes), ['DELETE /api/v1/events', 'GET /api/v1/nothing']);
  });
});
