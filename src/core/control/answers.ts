/**
 * How a vendor's phone answers a control request, from both sides: the virtual phone builds its answer with
 * `phoneAnswer`, the server reads a real or virtual phone's answer with `readAnswer`. A refusal becomes one
 * line that tells the user what to change on the phone; a refusal is final (never retried: phones lock the
 * admin account after a few wrong passwords).
 */
import { controlDialect } from './dialects.ts';
import type { VendorId } from '../vendors/types.ts';

/** Why the phone did not take a command. */
export type Refusal =
  /** Wrong user name or password (401, or Grandstream's "unauthorized"). */
  | 'credentials'
  /** The phone locked the admin account after wrong passwords. */
  | 'locked'
  /** This server's address is not on the phone's allowlist (or remote control is off). */
  | 'not_allowed'
  /** The phone asks the user "Allow remote control?" and nobody has said yes yet. */
  | 'prompt'
  /** The phone understood the request but could not do it now (Grandstream "failed"). */
  | 'failed'
  /** The phone does not know the request (404 / 400). */
  | 'unknown_request'
  /** Any other answer. */
  | 'other';

export type PhoneOutcome = 'done' | Exclude<Refusal, 'other'>;

export interface PhoneAnswer {
  status: number;
  contentType: string;
  body: string;
  /** A header given several times (one `WWW-Authenticate` per Digest algorithm) is a list. */
  headers: Record<string, string | string[]>;
}

/** Words in a refusal's body that say which refusal it is (our virtual phones write them; real ones may not). */
const HINTS: readonly (readonly [Refusal, RegExp])[] = [
  ['locked', /\block(ed|out)\b/i],
  ['prompt', /allow remote control\?|\bprompt\b/i],
  ['credentials', /unauthori[sz]ed|password/i],
  ['not_allowed', /not allowed|forbidden/i],
];

const TEXT_STATUS: Record<PhoneOutcome, number> = {
  done: 200, credentials: 401, locked: 403, not_allowed: 403, prompt: 403, failed: 200, unknown_request: 404,
};
const TEXT_BODY: Record<PhoneOutcome, string> = {
  done: 'OK',
  credentials: 'Unauthorized',
  locked: 'Forbidden: the admin account is locked after too many wrong passwords',
  not_allowed: 'Forbidden: remote control is not allowed from this address',
  prompt: 'Forbidden: waiting for the user to answer "Allow remote control?" on the phone',
  failed: 'OK',
  unknown_request: 'Not Found',
};
/** Grandstream's body word per outcome (`success`/`complete` and `error`/`failed` are documented). */
const JSON_BODY: Record<PhoneOutcome, string> = {
  done: 'complete', credentials: 'unauthorized', locked: 'locked', not_allowed: 'forbidden', prompt: 'prompt',
  failed: 'failed', unknown_request: 'unknown request',
};

/** The answer a vendor's phone gives; `detail` (the phone's own words) goes into text bodies only. */
export function phoneAnswer(vendor: VendorId, outcome: PhoneOutcome, detail?: string): PhoneAnswer {
  const d = controlDialect(vendor);
  const headers: Record<string, string | string[]> = outcome === 'credentials' && d.auth === 'basic'
    ? { 'WWW-Authenticate': `Basic realm="${d.label} phone"` }
    : {};
  if (d.answers === 'json') {
    // Grandstream answers 200 with the outcome in the body, except for the refusals before the request is read.
    const status = outcome === 'credentials' ? 401 : outcome === 'not_allowed' || outcome === 'locked' || outcome === 'prompt' ? 403 : outcome === 'unknown_request' ? 404 : 200;
    const body = JSON.stringify({ response: outcome === 'done' ? 'success' : 'error', body: JSON_BODY[outcome] });
    return { status, contentType: 'application/json', body, headers };
  }
  const body = outcome === 'failed' || !detail ? TEXT_BODY[outcome] : `${TEXT_BODY[outcome]}: ${detail}`;
  return { status: TEXT_STATUS[outcome], contentType: 'text/plain; charset=utf-8', body, headers };
}

export type AnswerReading = { accepted: true } | { accepted: false; refusal: Refusal; detail: string };

/** Printable and short, whatever the phone sent. */
function clean(text: string): string {
  let flat = '';
  for (const ch of text) flat += ch.charCodeAt(0) < 0x20 || ch === '\u007f' ? ' ' : ch;
  flat = flat.replace(/ {2,}/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

function refusalFromText(text: string, fallback: Refusal): Refusal {
  for (const [refusal, re] of HINTS) if (re.test(text)) return refusal;
  return fallback;
}

/** The server's reading of a phone's answer to a control request. */
export function readAnswer(vendor: VendorId, status: number, body: string): AnswerReading {
  const d = controlDialect(vendor);
  const detail = clean(body);
  if (status === 401) return { accepted: false, refusal: 'credentials', detail };
  if (status === 403) return { accepted: false, refusal: refusalFromText(body, 'not_allowed'), detail };
  if (status === 404 || status === 400) return { accepted: false, refusal: 'unknown_request', detail };
  if (status < 200 || status > 299) return { accepted: false, refusal: 'other', detail: `HTTP ${status}${detail ? ` ${detail}` : ''}` };
  if (d.answers === 'text') return { accepted: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { accepted: false, refusal: 'other', detail: `not the JSON a ${d.label} phone answers: ${detail}` };
  }
  const p = parsed as { response?: unknown; body?: unknown };
  if (p?.response === 'success') return { accepted: true };
  const word = typeof p?.body === 'string' ? p.body : JSON.stringify(p?.body ?? '');
  return { accepted: false, refusal: refusalFromText(word, 'failed'), detail: clean(word) };
}

/** One line for the user: what the phone said and what to set so the next command works. */
export function refusalReason(vendor: VendorId, refusal: Refusal, detail: string, serverAddress?: string): string {
  const d = controlDialect(vendor);
  const said = detail ? ` (the phone said: ${detail})` : '';
  const me = serverAddress ?? "this server's address";
  switch (refusal) {
    case 'credentials':
      return `the phone refused the user name or password${said}: set this phone's control credentials to its web admin account (PUT /api/v1/phones/<mac>/control, or serve --phone-user/--phone-password); not retried, so the phone does not lock the account`;
    case 'locked':
      return `the phone has locked its admin account after too many wrong passwords${said}: wait for the lock-out to end, then set the right credentials; not retried`;
    case 'not_allowed':
      return `the phone does not allow remote control from ${me}${said}: add ${me} to ${d.settings.allow}${d.settings.enable ? ` and check that ${d.settings.enable} is on` : ''}`;
    case 'prompt':
      return `the phone is asking its user "Allow remote control?"${said}: answer it on the phone${d.settings.prompt ? `, or set ${d.settings.prompt} = 0 so it never asks` : ''}`;
    case 'failed':
      return `the phone could not do it now${said}`;
    case 'unknown_request':
      return `the phone does not know this request${said}: is it really a ${d.label} phone? Set the vendor with PUT /api/v1/phones/<mac>/control`;
    default:
      return `the phone answered unexpectedly: ${detail}`;
  }
}
