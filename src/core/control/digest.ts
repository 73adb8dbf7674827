/**
 * HTTP Digest authentication (RFC 7616), both sides: the receiver answers a phone's challenge (Snom phones
 * can be set to Digest), the virtual phone issues challenges and checks answers. Algorithms MD5, SHA-256
 * and SHA-512-256 (and their `-sess` forms), qop `auth` (and the old form without qop). Pure: no sockets, no
 * clock; the caller gives the nonce check and the cnonce.
 */
import { createHash } from 'node:crypto';
import { equalSecrets } from '../secret-compare.ts';

export const DIGEST_ALGORITHMS = ['SHA-512-256', 'SHA-256', 'MD5'] as const;
type BaseAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
const HASH: Record<BaseAlgorithm, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

/** One challenge of a `WWW-Authenticate` header (parameter names lower-cased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * Every challenge in a `WWW-Authenticate` value (one header may hold several: `Digest …, Basic …`), or the
 * parameters of an `Authorization: Digest …` value. Never throws; what it cannot read it skips.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i])) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) {
      i++;
      continue;
    }
    const name = m[0];
    i += name.length;
    const afterName = i;
    skip(/[ \t]/);
    if (header[i] !== '=') {
      current = { scheme: name, params: {} };
      out.push(current);
      i = afterName;
      continue;
    }
    i++;
    skip(/[ \t]/);
    let value = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        value += header[i++];
      }
      i++;
    } else {
      TOKEN.lastIndex = i;
      const v = TOKEN.exec(header);
      value = v ? v[0] : '';
      i += value.length;
    }
    // A parameter before any scheme (an Authorization value read without its scheme) starts an anonymous one.
    if (!current) {
      current = { scheme: '', params: {} };
      out.push(current);
    }
    current.params[name.toLowerCase()] = value;
  }
  return out;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** As the phone spelled it (`SHA-256`, `MD5-sess`, …); absent in the challenge means MD5. */
  algorithm: string;
  /** `auth`, or absent for the RFC 2069 form. */
  qop?: 'auth';
}

function baseAlgorithm(algorithm: string): { base: BaseAlgorithm; sess: boolean } | undefined {
  const upper = algorithm.toUpperCase();
  const sess = upper.endsWith('-SESS');
  const base = DIGEST_ALGORITHMS.find((a) => a === (sess ? upper.slice(0, -5) : upper));
  return base ? { base, sess } : undefined;
}

/**
 * The Digest challenge to answer among those a phone sent: the strongest algorithm this side knows, with qop
 * `auth` when offered. `undefined` when there is no Digest challenge; `error` when there is but none usable.
 */
export function chooseDigest(challenges: readonly Challenge[]): DigestChallenge | { error: string } | undefined {
  const digests = challenges.filter((c) => c.scheme.toLowerCase() === 'digest');
  if (digests.length === 0) return undefined;
  let best: { c: DigestChallenge; rank: number } | undefined;
  const seen: string[] = [];
  for (const { params } of digests) {
    const algorithm = params.algorithm ?? 'MD5';
    const qops = params.qop?.split(',').map((q) => q.trim().toLowerCase());
    seen.push(`${algorithm}${qops ? ` qop=${qops.join('/')}` : ''}`);
    const alg = baseAlgorithm(algorithm);
    if (!alg || params.realm === undefined || !params.nonce) continue;
    if (qops && !qops.includes('auth')) continue;
    const rank = DIGEST_ALGORITHMS.length - DIGEST_ALGORITHMS.indexOf(alg.base);
    if (best && best.rank >= rank) continue;
    best = {
      rank,
      c: { realm: params.realm, nonce: params.nonce, algorithm, ...(params.opaque !== undefined ? { opaque: params.opaque } : {}), ...(qops ? { qop: 'auth' as const } : {}) },
    };
  }
  return best?.c ?? { error: `the phone asks for HTTP Digest in a form this receiver does not support (${seen.join(', ').slice(0, 120)}); it supports ${DIGEST_ALGORITHMS.join(', ')} with qop=auth` };
}

const hash = (base: BaseAlgorithm, text: string) => createHash(HASH[base]).update(text, 'utf8').digest('hex');

export interface DigestInput {
  challenge: DigestChallenge;
  username: string;
  password: string;
  method: string;
  /** The request target exactly as sent (path and query). */
  uri: string;
  cnonce: string;
  /** Requests made with this nonce so far, this one included. */
  nc: number;
}

const ncText = (nc: number) => nc.toString(16).padStart(8, '0');

/** The `response` value for these inputs (both sides compute it). */
export function digestResponse(i: DigestInput): string {
  const alg = baseAlgorithm(i.challenge.algorithm);
  if (!alg) throw new Error(`unsupported digest algorithm ${i.challenge.algorithm}`);
  const h = (t: string) => hash(alg.base, t);
  let ha1 = h(`${i.username}:${i.challenge.realm}:${i.password}`);
  if (alg.sess) ha1 = h(`${ha1}:${i.challenge.nonce}:${i.cnonce}`);
  const ha2 = h(`${i.method}:${i.uri}`);
  return i.challenge.qop
    ? h(`${ha1}:${i.challenge.nonce}:${ncText(i.nc)}:${i.cnonce}:${i.challenge.qop}:${ha2}`)
    : h(`${ha1}:${i.challenge.nonce}:${ha2}`);
}

const quoted = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** The `Authorization` header value answering the challenge. */
export function digestAuthorization(i: DigestInput): string {
  // A user name outside printable ASCII goes as username* (RFC 7616 section 3.4.4).
  const user = /^[\x20-\x7e]*$/.test(i.username)
    ? `username=${quoted(i.username)}`
    : `username*=UTF-8''${encodeURIComponent(i.username)}`;
  const parts = [
    user,
    `realm=${quoted(i.challenge.realm)}`,
    `uri=${quoted(i.uri)}`,
    `algorithm=${i.challenge.algorithm}`,
    `nonce=${quoted(i.challenge.nonce)}`,
    ...(i.challenge.qop ? [`nc=${ncText(i.nc)}`, `cnonce=${quoted(i.cnonce)}`, `qop=${i.challenge.qop}`] : []),
    `response=${quoted(digestResponse(i))}`,
    ...(i.challenge.opaque !== undefined ? [`opaque=${quoted(i.challenge.opaque)}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

/** A challenge as a phone sends it, one `WWW-Authenticate` value per algorithm. */
export function digestChallengeHeader(c: { realm: string; nonce: string; algorithm: string; stale?: boolean }): string {
  return `Digest realm=${quoted(c.realm)}, qop="auth", algorithm=${c.algorithm}, nonce=${quoted(c.nonce)}${c.stale ? ', stale=true' : ''}`;
}

export type DigestCheck =
  /** Not a Digest answer at all: challenge, do not count it as a wrong password. */
  | { outcome: 'none' }
  /** A Digest answer to a nonce that is no longer valid: challenge again with stale=true. */
  | { outcome: 'stale' }
  /** Checked: the user name and response are right, or wrong (count it). */
  | { outcome: 'ok' | 'wrong'; username: string };

export interface DigestVerifyInput {
  header: string | undefined;
  method: string;
  /** The request target as received. */
  uri: string;
  realm: string;
  /** Algorithms this side offered. */
  algorithms: readonly string[];
  nonceValid(nonce: string): boolean;
  /** The password of this user name, if it is the account's. */
  passwordOf(username: string): string | undefined;
}

/** The phone side: is this `Authorization` header a right answer to one of our challenges? */
export function verifyDigest(v: DigestVerifyInput): DigestCheck {
  if (!v.header || !/^digest\s/i.test(v.header)) return { outcome: 'none' };
  const p = parseChallenges(v.header.replace(/^digest\s+/i, ''))[0]?.params ?? {};
  const username = p.username ?? (p['username*']?.startsWith("UTF-8''") ? safeDecode(p['username*'].slice(7)) : undefined);
  const algorithm = p.algorithm ?? 'MD5';
  if (username === undefined || !p.nonce || p.response === undefined || p.realm !== v.realm || p.uri !== v.uri) return { outcome: 'wrong', username: username ?? '' };
  if (!v.algorithms.some((a) => a.toLowerCase() === algorithm.toLowerCase())) return { outcome: 'wrong', username };
  if (p.qop !== undefined && (p.qop !== 'auth' || !p.cnonce || !/^[0-9a-fA-F]{8}$/.test(p.nc ?? ''))) return { outcome: 'wrong', username };
  if (!v.nonceValid(p.nonce)) return { outcome: 'stale' };
  const password = v.passwordOf(username);
  // The same work whether or not the user name is right, so timing does not tell which was wrong.
  const expected = digestResponse({
    challenge: { realm: v.realm, nonce: p.nonce, algorithm, ...(p.qop ? { qop: 'auth' as const } : {}) },
    username,
    password: password ?? '',
    method: v.method,
    uri: v.uri,
    cnonce: p.cnonce ?? '',
    nc: p.nc ? parseInt(p.nc, 16) : 0,
  });
  return { outcome: equalSecrets(p.response.toLowerCase(), expected) && password !== undefined ? 'ok' : 'wrong', username };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
