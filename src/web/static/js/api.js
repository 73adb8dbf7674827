// Talking to the receiver's REST API. The session cookie rides along with every same-origin request; a 401
// means the sign-in expired, so the browser goes back to the login page (and returns here afterwards).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Sends the browser to the login page, unless it is signed in already as far as the dashboard can tell:
 * then the API refuses the session for another reason, and a redirect would only loop.
 */
async function toLogin() {
  try {
    const session = await (await fetch('/ui/session.json', { credentials: 'same-origin' })).json();
    if (session.authorized) return false;
  } catch {
    // Unknown: try the login page.
  }
  const next = location.hash.startsWith('#/') ? location.hash : '';
  location.assign(`/login${next}`);
  return true;
}

/** GET a JSON document. `params` entries that are empty are left out. */
export async function getJson(path, params, init) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...init });
  if (res.status === 401) {
    const redirected = await toLogin();
    throw new ApiError(401, redirected ? 'sign-in required' : 'the API refused this signed-in session (401)');
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, `${res.status}: not JSON`);
  }
  if (!res.ok) throw new ApiError(res.status, (body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

/** PATCH, POST or DELETE with a JSON (or text, with its content type) body; resolves with the JSON answer. */
export async function sendJson(method, path, body, contentType = 'application/json') {
  // Always a content type a page on another site cannot send without a preflight: the receiver refuses a
  // change in any other shape (a body-less DELETE included).
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', 'Content-Type': contentType } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(new URL(path, location.origin), init);
  if (res.status === 401) {
    await toLogin();
    throw new ApiError(401, 'sign-in required');
  }
  let answer = null;
  try {
    answer = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok) throw new ApiError(res.status, (answer && answer.error) || `${res.status} ${res.statusText}`);
  return answer;
}

/**
 * POST a JSON body. The JSON content type is what keeps other sites out: a browser cannot send it cross-site
 * without a preflight the receiver never grants.
 */
export function postJson(path, body) {
  return sendJson('POST', path, body);
}

/** The array in a list answer: `{ <key>: [...] }` or a bare array. */
export function listOf(body, key) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body[key])) return body[key];
  return [];
}

/** Every phone (a summary each), following the list's `next` cursor page by page. */
export async function fetchAllPhones() {
  const all = [];
  let params = { limit: 1000 };
  for (let page = 0; page < 1000; page++) {
    const body = await getJson('/api/v1/phones', params);
    all.push(...listOf(body, 'phones'));
    const next = body && !Array.isArray(body) ? body.next : null;
    if (next === null || next === undefined || next === '') break;
    params = { ...params, after: next, cursor: next };
  }
  return all;
}

export function fetchPhone(mac) {
  return getJson(`/api/v1/phones/${encodeURIComponent(mac)}`);
}

let catalogPromise;
/** Incident and variable names from the shared catalog (served by the dashboard, cached). */
export function catalog() {
  catalogPromise ??= getJson('/ui/catalog.json').then((c) => ({
    ...c,
    incidentBySlug: new Map(c.incidents.map((i) => [i.slug, i])),
  }));
  return catalogPromise;
}

/** Human name of an incident slug (`call_established` -> `Established`). */
export function incidentName(cat, slug) {
  return cat?.incidentBySlug.get(slug)?.name ?? slug;
}

const SNAKE_CACHE = new Map();
function snake(key) {
  let out = SNAKE_CACHE.get(key);
  if (out === undefined) {
    out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    SNAKE_CACHE.set(key, out);
  }
  return out;
}

/**
 * The REST API's snake_case shape for a phone, call or event, also from a camelCase object (the stream may
 * carry the receiver's internal state). `vars` and `extra` are what the phone sent: their keys stay as they are.
 */
export function apiShape(value) {
  if (Array.isArray(value)) return value.map(apiShape);
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[snake(k)] = k === 'vars' || k === 'extra' ? v : apiShape(v);
  }
  return out;
}
