/**
 * The remote-control API: a phone's control settings (credentials go in, never come out) and commands.
 *   PUT/GET/DELETE /api/v1/phones/<mac>/control
 *   POST /api/v1/phones/<mac>/control/confirm {"address"}  (approve an address the phone reports)
 *   POST /api/v1/phones/<mac>/commands  → 202 {id, status}
 *   GET  /api/v1/phones/<mac>/commands  (the phone's newest commands)
 *   GET  /api/v1/commands/<id>[?wait=<seconds>]  (wait: answer once the command is final, or after that long)
 */
import { parseCommandRequest } from '../../core/control/index.ts';
import type { ControlService } from '../control/service.ts';
import { commandJson } from '../control/service.ts';
import type { HttpRequest } from '../../http/types.ts';
import type { Router } from '../../http/router.ts';
import { limitParam, macParam, onlyParams, ParamError } from './params.ts';

const MAX_BODY = 4096;
/** GET /api/v1/commands/<id>?wait=S holds the answer until the command is final, at most this long. */
const MAX_WAIT_S = 20;

function jsonBody(req: HttpRequest): unknown | { error: string } {
  if (req.body.length > MAX_BODY) return { error: `body over ${MAX_BODY} bytes` };
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return { error: 'send Content-Type: application/json' };
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    return { error: 'body is not JSON' };
  }
}

const isError = (v: unknown): v is { error: string } =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as { error?: unknown }).error === 'string';

export function registerControlRoutes(router: Router, control: ControlService): void {
  router.get('/api/v1/phones/:mac/control', (req, res, params) => {
    onlyParams(req.query, []);
    const mac = macParam(params.mac, 'the MAC in the path')!;
    res.json(200, control.view(mac));
  });

  router.add('PUT', '/api/v1/phones/:mac/control', async (req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    const body = jsonBody(req);
    if (isError(body)) return res.json(400, body);
    const out = await control.put(mac, body);
    if ('error' in out) return res.json(400, out);
    res.json(200, out);
  });

  router.add('DELETE', '/api/v1/phones/:mac/control', async (_req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    await control.remove(mac);
    res.send(204);
  });

  router.add('POST', '/api/v1/phones/:mac/control/confirm', async (req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    const body = jsonBody(req);
    if (isError(body)) return res.json(400, body);
    const out = await control.confirm(mac, body);
    if ('error' in out) return res.json(out.status, { error: out.error });
    res.json(200, out);
  });

  router.add('POST', '/api/v1/phones/:mac/commands', (req, res, params) => {
    const mac = macParam(params.mac, 'the MAC in the path')!;
    const body = jsonBody(req);
    if (isError(body)) return res.json(400, body);
    const request = parseCommandRequest(body);
    if ('error' in request) return res.json(400, request);
    if (!control.known(mac)) {
      return res.json(404, { error: `no phone ${mac} has sent an event, and none is set up for control (PUT /api/v1/phones/${mac}/control with url and vendor)` });
    }
    const out = control.submit(mac, request);
    if ('busy' in out) return res.json(429, { error: out.busy });
    res.json(202, commandJson(out), { Location: `/api/v1/commands/${out.id}` });
  });

  router.get('/api/v1/phones/:mac/commands', async (req, res, params) => {
    onlyParams(req.query, ['limit']);
    const mac = macParam(params.mac, 'the MAC in the path')!;
    res.json(200, { commands: (await control.recent(mac, limitParam(req.query, 20))).map(commandJson) });
  });

  router.get('/api/v1/commands/:id', async (req, res, params) => {
    onlyParams(req.query, ['wait']);
    const wait = req.query.get('wait');
    let ms = 0;
    if (wait !== null && wait !== '') {
      const s = Number(wait);
      if (!Number.isFinite(s) || s < 0 || s > MAX_WAIT_S) throw new ParamError(`wait must be seconds from 0 to ${MAX_WAIT_S}`);
      ms = s * 1000;
    }
    const c = await control.waitFor(params.id, ms);
    if (!c) return res.json(404, { error: `no command ${params.id.slice(0, 64)} (commands are kept for the --retention period, the newest 100,000 at most)` });
    res.json(200, commandJson(c));
  });
}
