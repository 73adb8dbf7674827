/**
 * The rule for secrets a person gives on the command line (`requireStrongSecrets`): a guessable token
 * guards nothing, and an empty one is never "no token".
 */
import type { ServerOptions } from './options.ts';

/** Shortest secret each flag takes. */
const SECRET_MINIMUM: ReadonlyArray<[flag: string, key: 'token' | 'tokenSecret' | 'adminToken', min: number, without: string]> = [
  ['--token', 'token', 8, 'leave --token out for no ingest token'],
  ['--token-secret', 'tokenSecret', 16, 'leave --token-secret out for no per-phone tokens'],
  ['--admin-token', 'adminToken', 16, 'leave --admin-token out to have one generated at first start'],
];

/** The first secret that is empty or too short, as a one-line reason; undefined when all are fine. */
export function weakSecret(opts: Pick<ServerOptions, 'token' | 'tokenSecret' | 'adminToken'>): string | undefined {
  for (const [flag, key, min, without] of SECRET_MINIMUM) {
    const value = opts[key];
    if (value === undefined) continue;
    if (value.trim() === '') return `${flag} is empty; give one of at least ${min} characters, or ${without}`;
    if (value.length < min) return `${flag} is only ${value.length === 1 ? "1 character" : `${value.length} characters`}; give one of at least ${min} (e.g. openssl rand -hex 16)`;
  }
  return undefined;
}
