/**
 * A small router: exact paths, path prefixes and `:param` segments, by method. The first matching route
 * wins, in the order they were added; a path that matches with another method gets 405 with `Allow`.
 */
import type { HttpHandler, HttpRequest, HttpResponse } from './types.ts';

export type RouteHandler = (req: HttpRequest, res: HttpResponse, params: Record<string, string>) => void | Promise<void>;

interface Route {
  methods: readonly string[] | '*';
  match(path: string): Record<string, string> | undefined;
  handler: RouteHandler;
}

/** `/api/v1/phones/:mac` -> matcher; a trailing `/*` matches the prefix itself and anything below it. */
function compile(pattern: string): (path: string) => Record<string, string> | undefined {
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -2);
    return (path) => (path === prefix || path.startsWith(`${prefix}/`) ? { rest: path.slice(prefix.length + 1) } : undefined);
  }
  const parts = pattern.split('/');
  if (!parts.some((p) => p.startsWith(':'))) return (path) => (path === pattern ? {} : undefined);
  return (path) => {
    const segs = path.split('/');
    if (segs.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      if (parts[i].startsWith(':')) {
        if (segs[i] === '') return undefined;
        params[parts[i].slice(1)] = segs[i];
      } else if (parts[i] !== segs[i]) return undefined;
    }
    return params;
  };
}

export class Router {
  private readonly routes: Route[] = [];

  /** `methods` like 'GET' or ['GET', 'HEAD'] or '*'. GET routes answer HEAD too. */
  add(methods: string | readonly string[], pattern: string, handler: RouteHandler): this {
    const list = methods === '*' ? '*' : (typeof methods === 'string' ? [methods] : methods).map((m) => m.toUpperCase());
    const withHead = list !== '*' && list.includes('GET') && !list.includes('HEAD') ? [...list, 'HEAD'] : list;
    this.routes.push({ methods: withHead, match: compile(pattern), handler });
    return this;
  }

  get(pattern: string, handler: RouteHandler): this {
    return this.add('GET', pattern, handler);
  }

  /** Finds the route; undefined when no path matches, `{allow}` when only other methods do. */
  resolve(method: string, path: string): { handler: RouteHandler; params: Record<string, string> } | { allow: string[] } | undefined {
    let allow: Set<string> | undefined;
    for (const route of this.routes) {
      const params = route.match(path);
      if (!params) continue;
      if (route.methods === '*' || route.methods.includes(method)) return { handler: route.handler, params };
      allow ??= new Set<string>();
      for (const m of route.methods) allow.add(m);
    }
    return allow !== undefined && allow.size > 0 ? { allow: [...allow] } : undefined;
  }

  /**
   * The router as one handler; `notFound` answers paths no route has. `admit`, when given, sees each request
   * a route will take (after the path and method were found to exist) and may answer it instead (false).
   */
  handler(notFound: HttpHandler, admit?: (req: HttpRequest, res: HttpResponse) => boolean): HttpHandler {
    return (req, res) => {
      const found = this.resolve(req.method, req.path);
      if (!found) return notFound(req, res);
      if ('allow' in found) {
        res.json(405, { error: `method ${req.method} not allowed here` }, { Allow: found.allow.join(', ') });
        return;
      }
      if (admit && !admit(req, res)) return;
      return found.handler(req, res, found.params);
    };
  }
}
