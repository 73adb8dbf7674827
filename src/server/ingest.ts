/**
 * The endpoint phones call: `/actionurl/<incident>?…`, `/actionurl?event=<incident>&…` and Grandstream's
 * `/actionurl/<incident>/name=value&…`. A usable request is stored (group commit) and answered `200 OK`
 * only once committed; anything else gets a 4xx with a one-line reason and is kept as a rejected request.
 */
import { decodeRequestTarget, isUsable, refusalReason, type DecodedRequest } from '../core/decode.ts';
import { phoneToken } from '../core/phone-token.ts';
import { equalSecretBytes, equalSecrets } from '../core/secret-compare.ts';
import type { HttpHandler, HttpRefusal, HttpRequest, HttpResponse } from '../http/types.ts';
import type { NewRejected } from '../store/types.ts';
import type { ReceiverSettings, ServerContext } from './context.ts';
import { MIN_SECRET_LENGTH, redactFields, redactToken, secretForms } from './redact.ts';
import type { Allowlist, RateLimiter } from './access.ts';
import type { RejectionSampler } from './rejections.ts';
import { isStoreFull } from '../store/full.ts';

export { redactToken } from './redact.ts';

export interface IngestOptions {
  allowlist?: Allowlist;
  rateLimiter?: RateLimiter;
  sampler: RejectionSampler;
  /** Most phones kept; an event from a new MAC beyond is refused (503, kind `phone_limit`). */
  maxPhones?: number;
}

/** One object for every plain-text answer, so the HTTP layer can reuse the bytes of identical answers. */
const TEXT: Record<string, string> = Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8' }) as Record<string, string>;

/** The byte forms of the configured tokens, recomputed only when the settings change. */
function secretsOf(settings: ReceiverSettings): readonly Buffer[] {
  return secretEntry(settings).forms;
}

/** The configured tokens as text (those long enough to blank wherever they appear). */
function plainSecretsOf(settings: ReceiverSettings): readonly string[] {
  return secretEntry(settings).plain;
}

function secretEntry(settings: ReceiverSettings): SecretEntry {
  const cached = SECRETS.get(settings);
  if (
    cached &&
    cached.token === settings.token &&
    cached.adminToken === settings.adminToken &&
    cached.tokenSecret === settings.tokenSecret
  ) {
    return cached;
  }
  const values = [settings.token, settings.adminToken, settings.tokenSecret];
  const entry: SecretEntry = {
    token: settings.token, adminToken: settings.adminToken, tokenSecret: settings.tokenSecret,
    forms: secretForms(values),
    plain: values.filter((v): v is string => v !== undefined && v.length >= MIN_SECRET_LENGTH),
  };
  SECRETS.set(settings, entry);
  return entry;
}
interface SecretEntry { token?: string; adminToken?: string; tokenSecret?: string; forms: readonly Buffer[]; plain: readonly string[] }
const SECRETS = new WeakMap<ReceiverSettings, SecretEntry>();

/** A phone's derived token, as text and bytes. */
interface PhoneTokenEntry {
  text: string;
  bytes: Buffer;
}

/** Derived tokens kept per secret: an HMAC costs microseconds, a lookup next to nothing. */
const PHONE_TOKEN_CACHE_SIZE = 16_384;
const PHONE_TOKENS = new WeakMap<ReceiverSettings, { secret: string; tokens: Map<string, PhoneTokenEntry> }>();

/** The derived token of the phone with `mac` (normalised) under `secret`, from the cache when it is there. */
function derivedToken(settings: ReceiverSettings, secret: string, mac: string): PhoneTokenEntry {
  let cache = PHONE_TOKENS.get(settings);
  if (!cache || cache.secret !== secret) {
    cache = { secret, tokens: new Map() };
    PHONE_TOKENS.set(settings, cache);
  }
  let entry = cache.tokens.get(mac);
  if (entry === undefined) {
    const text = phoneToken(secret, mac);
    entry = { text, bytes: Buffer.from(text, 'utf8') };
    // Bounded, oldest first out: requests with made-up MACs cannot grow it.
    if (cache.tokens.size >= PHONE_TOKEN_CACHE_SIZE) cache.tokens.delete(cache.tokens.keys().next().value!);
    cache.tokens.set(mac, entry);
  }
  return entry;
}

/**
 * An event's `vars` and `extra` as they may be stored and forwarded (webhooks, MQTT, exports all read the
 * stored event): secret-named fields and the configured tokens blanked, like the raw target.
 */
export function redactEventFields(
  fields: { vars: Record<string, string>; extra: Record<string, string> },
  settings: ReceiverSettings,
  mac?: string | null,
): { vars: Record<string, string>; extra: Record<string, string> } {
  let plain = plainSecretsOf(settings);
  let forms = secretsOf(settings);
  if (settings.tokenSecret !== undefined && mac) {
    const own = derivedToken(settings, settings.tokenSecret, mac);
    plain = [...plain, own.text];
    forms = [...forms, own.bytes];
  }
  return { vars: redactFields(fields.vars, plain, forms), extra: redactFields(fields.extra, plain, forms) };
}

/**
 * A target as it may be stored: `token` values and the configured tokens (however encoded) blanked; with
 * per-phone tokens on, also the token of the phone `mac` (the request's own MAC), however encoded.
 */
export function redactForStorage(target: Buffer, settings: ReceiverSettings, mac?: string | null): Buffer {
  const secrets = secretsOf(settings);
  if (settings.tokenSecret === undefined || !mac) return redactToken(target, secrets);
  return redactToken(target, [...secrets, derivedToken(settings, settings.tokenSecret, mac).bytes]);
}

/**
 * With per-phone tokens on (`--token-secret`): why the request's token is refused, or undefined when it is
 * that phone's derived token or the shared `--token`.
 */
function phoneTokenRefusal(decoded: DecodedRequest, settings: ReceiverSettings, secret: string): { reason: string; code: string } | undefined {
  const given = decoded.token;
  if (settings.token !== undefined && equalSecrets(given, settings.token)) return undefined;
  if (given === null) return { reason: 'missing token: add token=<this phone\'s ingest token> to the URL', code: 'missing_token' };
  if (decoded.mac === null) return { reason: 'wrong token: a phone\'s token is checked against its mac, and the request has no valid mac', code: 'wrong_token' };
  const expected = derivedToken(settings, secret, decoded.mac).bytes;
  const bytes = Buffer.from(given, 'utf8');
  if (equalSecretBytes(bytes, expected)) return undefined;
  return { reason: `wrong token for phone ${decoded.mac}`, code: 'wrong_token' };
}

/** The answers to a request that was fine but could not be stored (the phone's event is lost to it). */
export const NOT_STORED = 'the event could not be stored; the receiver is unavailable\n';
export const NOT_STORED_DISK_FULL = 'the event could not be stored: the receiver\'s disk is full\n';

/** Why a phone's request is refused before anything is stored: the answer, and the words it is counted by. */
export interface IngestRefusal {
  status: number;
  reason: string;
  /** The fixed word the refusal is counted and sampled by (`wrong_token`, `not_allowed`, …). */
  result: string;
  incident: string;
  mac: string | null;
}

/**
 * The checks of a phone's request that need neither the store nor the phones' states (source, rate, method,
 * token, a usable incident and MAC), in the order the answer is chosen; the decoded request when it passes.
 * A receiver that started without its database answers with these too (standby.ts).
 */
export function checkIngest(
  req: Pick<HttpRequest, 'remoteAddress' | 'method' | 'rawTarget'>,
  settings: ReceiverSettings,
  opts: Pick<IngestOptions, 'allowlist' | 'rateLimiter'>,
  now: number,
): { refusal: IngestRefusal; decoded?: undefined } | { refusal?: undefined; decoded: DecodedRequest } {
  const source = req.remoteAddress;
  const refused = (status: number, reason: string, result: string, incident = 'unknown', mac: string | null = null) => ({
    refusal: { status, reason, result, incident, mac },
  });
  if (opts.allowlist && !opts.allowlist.allows(source)) {
    return refused(403, `source address ${source} is not allowed to send events`, 'not_allowed');
  }
  if (opts.rateLimiter && !opts.rateLimiter.take(source, now)) {
    return refused(429, `too many requests from ${source}; slow down`, 'rate_limited');
  }
  if (req.method !== 'GET' && req.method !== 'POST') {
    return refused(405, `method ${req.method} not accepted: phones send GET`, 'bad_method');
  }
  const decoded = decodeRequestTarget(req.rawTarget);
  if (settings.tokenSecret !== undefined) {
    const refusal = phoneTokenRefusal(decoded, settings, settings.tokenSecret);
    if (refusal) return refused(403, refusal.reason, refusal.code, decoded.incident ?? 'unknown', decoded.mac);
  } else if (settings.token !== undefined && !equalSecrets(decoded.token, settings.token)) {
    const reason = decoded.token === null ? 'missing token: add token=<ingest token> to the URL' : 'wrong token';
    return refused(403, reason, decoded.token === null ? 'missing_token' : 'wrong_token', decoded.incident ?? 'unknown');
  }
  if (!isUsable(decoded)) {
    const code = decoded.problems.find((p) => p.severity === 'error')?.code ?? 'invalid';
    return refused(400, refusalReason(decoded) ?? 'unusable request', code, decoded.incident ?? 'unknown', decoded.mac);
  }
  return { decoded };
}

/**
 * Keeps a refused request through the bounded sampler (see rejections.ts): counted always, stored one by
 * one or summarised. `code` is the kind of refusal, a fixed word. Resolves once a row stored on its own is
 * on disk; a summarised one resolves at once.
 */
export function recordRejected(ctx: ServerContext, sampler: RejectionSampler, row: NewRejected, code: string): Promise<void> {
  const { metrics, commits } = ctx;
  metrics.rejected.inc({ reason: code });
  const { store, summaries } = sampler.admit(row, code);
  for (const s of summaries) void commits.addRejected(s).catch(() => {});
  if (!store) {
    metrics.rejectedSuppressed.inc({ reason: code });
    return RESOLVED;
  }
  return commits.addRejected(row).catch((err) => ctx.logger.error({ err }, 'could not store a rejected request'));
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Requests the HTTP layer refused before any handler saw them, kept like any other refused request. */
export function createRefusalRecorder(ctx: ServerContext, sampler: RejectionSampler): (refusal: HttpRefusal) => void {
  return (refusal) => {
    const row: NewRejected = {
      receivedAt: ctx.now(),
      sourceIp: refusal.remoteAddress,
      method: refusal.method,
      status: refusal.status,
      reason: refusal.reason,
      rawTarget: redactForStorage(refusal.rawTarget, ctx.settings),
      count: 1,
    };
    void recordRejected(ctx, sampler, row, `http_${refusal.status}`);
  };
}

export function createIngestHandler(ctx: ServerContext, opts: IngestOptions): HttpHandler {
  const { metrics, settings, commits } = ctx;
  /** New phones whose first event is being committed (see --max-phones). */
  const arriving = new Set<string>();

  const refuse = async (req: HttpRequest, res: HttpResponse, at: number, { status, reason, result, incident, mac }: IngestRefusal) => {
    metrics.ingest.inc({ incident, result });
    const row = {
      receivedAt: at,
      sourceIp: req.remoteAddress,
      method: req.method,
      status,
      reason,
      rawTarget: redactForStorage(req.rawTarget, settings, mac),
      count: 1,
    };
    // A flood is answered at once; a stored refusal once it is on disk, like an event.
    await recordRejected(ctx, opts.sampler, row, result);
    res.send(status, `${reason}\n`, TEXT);
  };

  return async (req, res) => {
    const source = req.remoteAddress;
    // One reading of the clock per request: the checks, the refusal kept and the stored event share it.
    const at = ctx.now();
    const checked = checkIngest(req, settings, opts, at);
    if (checked.refusal) return refuse(req, res, at, checked.refusal);
    const decoded = checked.decoded;
    const incident = decoded.incident!;
    const mac = decoded.mac!;
    // New phones whose first event is still being committed count too, or a burst of new MACs slips past the limit.
    const isNew = opts.maxPhones !== undefined && ctx.phones.get(mac) === undefined && !arriving.has(mac);
    if (isNew && ctx.phones.size + arriving.size >= opts.maxPhones!) {
      const reason = `phone limit reached: this receiver keeps at most ${opts.maxPhones} phones (--max-phones) and ${mac} is new`;
      return refuse(req, res, at, { status: 503, reason, result: 'phone_limit', incident, mac });
    }
    if (isNew) arriving.add(mac);
    try {
      await commits.addEvent({
        receivedAt: at,
        mac,
        incident,
        ...redactEventFields(decoded, settings, mac),
        rawTarget: redactForStorage(req.rawTarget, settings, mac),
        sourceIp: source,
      });
    } catch (err) {
      if (isStoreFull(err)) {
        // Logged once per failed commit (src/start/commits.ts); the phone gets the reason.
        metrics.ingest.inc({ incident, result: 'disk_full' });
        res.send(503, NOT_STORED_DISK_FULL, TEXT);
        return;
      }
      metrics.ingest.inc({ incident, result: 'error' });
      ctx.logger.error({ err }, 'could not store an event');
      res.send(503, NOT_STORED, TEXT);
      return;
    } finally {
      if (isNew) arriving.delete(mac);
    }
    metrics.ingest.inc({ incident, result: 'stored' });
    res.send(200, 'OK\n', TEXT);
    metrics.ingestSeconds.observe((performance.now() - req.receivedAt) / 1000);
  };
}
