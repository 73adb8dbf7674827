/**
 * The virtual phone's remote-control endpoint ("Action URI"), with the settings a real phone has: an
 * allowlist (empty: every request refused, as out of the box), the "Allow remote control?" prompt, the web
 * admin account (HTTP Basic, or Grandstream's passcode) with lock-out after repeated wrong passwords. A
 * request that gets through drives the call engine exactly as key presses do, so the same incidents fire.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  allowsAddress, decodeControlRequest, digestChallengeHeader, verifyDigest, formatControlAllowlist, parseControlAllowlist, phoneAnswer, controlDialect,
  type ControlAllowlist, type PhoneAnswer, type PhoneOutcome,
} from '../../core/control/index.ts';
import type { VendorId } from '../../core/vendors/types.ts';
import type { Phone } from '../phone.ts';
import type { Auth } from '../web/auth.ts';
import { actionForOperation } from './operations.ts';

/** How the phone authenticates control requests: Basic, or Digest with these algorithms (strongest first). */
export type ControlAuth = { scheme: 'basic' } | { scheme: 'digest'; algorithms: readonly string[] };

/** `digest`: SHA-256 and MD5 offered (RFC 7616); `digest-md5`: MD5 only, as older firmware offers. */
export const CONTROL_AUTH_CHOICES = ['basic', 'digest', 'digest-md5'] as const;

export function controlAuthOf(choice: (typeof CONTROL_AUTH_CHOICES)[number]): ControlAuth {
  if (choice === 'basic') return { scheme: 'basic' };
  return { scheme: 'digest', algorithms: choice === 'digest' ? ['SHA-256', 'MD5'] : ['MD5'] };
}

export interface RemoteControlOptions {
  /** `any`, or a comma list of addresses and patterns; '' (default): refuse everyone. */
  allow?: string;
  /** Ask "Allow remote control?" on the web panel before obeying a new address. Default false. */
  prompt?: boolean;
  /** HTTP authentication of control requests (vendors that take a passcode ignore it). Default Basic. */
  auth?: ControlAuth;
  /** Older firmware: the key endpoint only on its older paths (Yealink `/cgi-bin/ConfigManApp.com`). */
  olderFirmware?: boolean;
}

export interface ControlRequest {
  address: string;
  path: string;
  params: URLSearchParams;
  authorization?: string;
  /** The request target as received (Digest answers name it). Default: path and params. */
  target?: string;
}

/** A Digest nonce is good this long; after that the phone says `stale=true` and the client answers anew. */
const NONCE_MS = 5 * 60_000;

export interface ControlRecord {
  time: string;
  from: string;
  /** The request path and its parameters, the passcode blanked. */
  request: string;
  outcome: PhoneOutcome;
  detail?: string;
  /** How the request authenticated: `none`, `Basic`, `Digest SHA-256`, … (never the credentials). */
  auth: string;
}

/** The scheme (and Digest algorithm) of an Authorization header, for the request log. */
function authKind(header: string | undefined): string {
  if (!header) return 'none';
  const scheme = /^\S+/.exec(header)?.[0] ?? '';
  if (scheme.toLowerCase() !== 'digest') return scheme.slice(0, 20);
  const alg = /algorithm="?([\w-]+)/i.exec(header)?.[1] ?? 'MD5';
  return `Digest ${alg.slice(0, 20)}`;
}

/** Addresses waiting for an answer to the prompt, and log entries, kept at most. */
const MAX_PENDING = 20;
const MAX_LOG = 100;

export class RemoteControl {
  private allowlist: ControlAllowlist;
  prompt: boolean;
  /** Addresses the user allowed at the prompt (until the phone's settings change). */
  private readonly approved = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly log: ControlRecord[] = [];
  private typed = '';
  readonly httpAuth: ControlAuth;
  readonly olderFirmware: boolean;
  /** Nonces are signed timestamps, so the phone keeps nothing per challenge it hands out. */
  private readonly nonceKey = randomBytes(32);
  private stale = false;

  constructor(
    private readonly phone: Phone,
    private readonly auth: Auth,
    readonly vendor: VendorId,
    opts: RemoteControlOptions = {},
  ) {
    const list = parseControlAllowlist(opts.allow ?? '');
    if ('error' in list) throw new Error(`--action-uri-allow: ${list.error}`);
    this.allowlist = list;
    this.prompt = opts.prompt ?? false;
    this.httpAuth = opts.auth ?? { scheme: 'basic' };
    this.olderFirmware = opts.olderFirmware ?? false;
  }

  /** The realm of Digest challenges (the phone's name, as phones do). */
  get realm(): string {
    return `${controlDialect(this.vendor).label} ${this.phone.identity.model}`;
  }

  private nonce(now = Date.now()): string {
    const ts = now.toString(36);
    return `${ts}.${createHmac('sha256', this.nonceKey).update(ts).digest('base64url').slice(0, 22)}`;
  }

  private nonceValid(nonce: string): boolean {
    const [ts, sig] = nonce.split('.');
    if (!ts || !sig || nonce !== this.nonce(parseInt(ts, 36))) return false;
    const age = Date.now() - parseInt(ts, 36);
    return age >= 0 && age < NONCE_MS;
  }

  get allow(): string {
    return formatControlAllowlist(this.allowlist);
  }

  /** New settings from the web page or a config file; a bad allowlist is refused with the reason. */
  configure(allow: string, prompt: boolean): { error: string } | undefined {
    const list = parseControlAllowlist(allow);
    if ('error' in list) return list;
    this.allowlist = list;
    this.prompt = prompt;
    this.approved.clear();
    this.pending.clear();
    return undefined;
  }

  pendingPrompts(): string[] {
    return [...this.pending];
  }

  /** The user's answer at the prompt. */
  answerPrompt(address: string, allow: boolean): boolean {
    if (!this.pending.delete(address)) return false;
    if (allow) this.approved.add(address);
    return true;
  }

  records(): readonly ControlRecord[] {
    return this.log;
  }

  handle(req: ControlRequest): PhoneAnswer {
    const { status, ...outcome } = this.decide(req);
    const params = new URLSearchParams(req.params);
    if (params.has('passcode')) params.set('passcode', '');
    const query = params.toString();
    this.log.push({ time: new Date().toISOString(), from: req.address, request: `${req.path}${query ? `?${query}` : ''}`, auth: authKind(req.authorization), ...outcome });
    if (this.log.length > MAX_LOG) this.log.shift();
    const vendorAnswer = phoneAnswer(this.vendor, outcome.outcome, outcome.detail);
    // An unknown path is a 404, a known endpoint asked for something it does not know a 400.
    const answer = status ? { ...vendorAnswer, status } : vendorAnswer;
    if (outcome.outcome !== 'credentials' || this.httpAuth.scheme !== 'digest' || controlDialect(this.vendor).auth !== 'basic') return answer;
    // One challenge per algorithm, strongest first (RFC 7616 section 3.7).
    const nonce = this.nonce();
    const challenges = this.httpAuth.algorithms.map((algorithm) => digestChallengeHeader({ realm: this.realm, nonce, algorithm, stale: this.stale }));
    this.stale = false;
    return { ...answer, headers: { ...answer.headers, 'WWW-Authenticate': challenges } };
  }

  private decide(req: ControlRequest): { outcome: PhoneOutcome; detail?: string; status?: number } {
    if (!allowsAddress(this.allowlist, req.address)) return { outcome: 'not_allowed' };
    const login = this.login(req);
    if (login !== 'ok') return { outcome: login === 'blocked' ? 'locked' : 'credentials', ...(login === 'blocked' ? { detail: `try again in ${this.auth.retryAfter(req.address)} s` } : {}) };
    if (this.prompt && !this.approved.has(req.address)) {
      if (this.pending.size < MAX_PENDING) this.pending.add(req.address);
      return { outcome: 'prompt' };
    }
    const decoded = decodeControlRequest(this.vendor, req.path, req.params, { olderFirmware: this.olderFirmware });
    if ('error' in decoded) return { outcome: 'unknown_request', detail: decoded.error, status: decoded.status };
    for (const op of decoded.operations) {
      const step = actionForOperation(op, this.phone.state, this.typed);
      if ('error' in step) return { outcome: 'failed', detail: step.error };
      this.typed = step.typed;
      if (!step.action) continue;
      const out = this.phone.act(step.action);
      if ('error' in out) return { outcome: 'failed', detail: out.error };
      // A reboot comes back registered, as a phone does once its accounts register again.
      if (step.action.do === 'boot') this.phone.act({ do: 'register' });
    }
    return { outcome: 'done' };
  }

  private login(req: ControlRequest): 'ok' | 'wrong' | 'blocked' {
    if (controlDialect(this.vendor).auth === 'passcode') {
      return this.auth.attempt(req.address, this.auth.username, req.params.get('passcode') ?? '');
    }
    const outcome = this.httpAuth.scheme === 'digest' ? this.digestLogin(req, this.httpAuth.algorithms) : this.auth.basic(req.authorization, req.address);
    // No credentials at all: a challenge, not counted as a wrong password (unless already locked out).
    if (outcome === 'none') return this.auth.retryAfter(req.address) > 0 ? 'blocked' : 'wrong';
    return outcome;
  }

  /** Set to Digest, the phone reads only Digest answers: anything else (Basic too) gets a challenge. */
  private digestLogin(req: ControlRequest, algorithms: readonly string[]): 'ok' | 'wrong' | 'blocked' | 'none' {
    if (this.auth.retryAfter(req.address) > 0) return 'blocked';
    const query = req.params.toString();
    const check = verifyDigest({
      header: req.authorization,
      method: 'GET',
      uri: req.target ?? `${req.path}${query ? `?${query}` : ''}`,
      realm: this.realm,
      algorithms,
      nonceValid: (n) => this.nonceValid(n),
      passwordOf: (user) => this.auth.passwordOf(user),
    });
    if (check.outcome === 'stale') {
      this.stale = true;
      return 'none';
    }
    if (check.outcome === 'none') return 'none';
    return this.auth.record(req.address, check.outcome === 'ok');
  }
}
