/**
 * The requests of one command to a phone, answering what the phone asks on the way:
 * - an HTTP Digest challenge (Snom phones set to Digest): answered once with the phone's credentials;
 * - a 404 on a key endpoint that older firmware serves elsewhere (`firmwarePaths`, from the vendor table):
 *   asked once more on the next path.
 * What worked is returned, for the caller to remember per phone, so the next command goes straight to the
 * right path and does not send a Basic password to a phone that wants Digest. Neither is a retry of a
 * refusal: a 401 after the phone's own challenge was answered, or a 403, ends the command.
 */
import { randomBytes } from 'node:crypto';
import { chooseDigest, digestAuthorization, firmwarePaths, parseChallenges, targetText, type ControlTarget } from '../../core/control/index.ts';
import type { VendorId } from '../../core/vendors/index.ts';
import type { LookupFunction } from 'node:net';
import { basicAuthorization, sendToPhone, type PhoneReply } from './client.ts';
import type { PhoneCredentials } from './secrets.ts';

/** What the receiver learned about one phone's control endpoint. */
export interface PhoneHabits {
  /** Index into the request's firmware paths that the phone answered on. */
  pathIndex: number;
  /** The phone asked for HTTP Digest: send no Basic password, wait for its challenge. */
  digest: boolean;
}

export interface ExchangeOptions {
  vendor: VendorId;
  baseUrl: string;
  /** The request, a passcode already in it for vendors that take one. */
  target: ControlTarget;
  /** For HTTP authentication (not for passcode vendors). */
  credentials?: PhoneCredentials;
  timeoutMs: number;
  habits?: PhoneHabits;
  lookup?: LookupFunction;
  /** Told each Authorization header value before it is sent (so an echo of it can be blanked). */
  onAuthorization?: (value: string) => void;
}

export type ExchangeResult =
  | { reply: PhoneReply; habits: PhoneHabits }
  | { error: string; habits?: PhoneHabits; refused?: true }
  /** The phone asked for something this receiver cannot do (a Digest form it does not support). */
  | { failure: string; habits: PhoneHabits };

export async function exchange(o: ExchangeOptions): Promise<ExchangeResult> {
  const paths = firmwarePaths(o.vendor, o.target.path);
  let index = Math.min(o.habits?.pathIndex ?? 0, paths.length - 1);
  let digest = o.habits?.digest ?? false;
  let fellBack = false;
  const creds = o.credentials;
  for (;;) {
    const url = new URL(`${o.baseUrl}${targetText({ path: paths[index], params: o.target.params })}`);
    const send = (authorization?: string) => {
      if (authorization) o.onAuthorization?.(authorization);
      return sendToPhone({ url, timeoutMs: o.timeoutMs, ...(o.lookup ? { lookup: o.lookup } : {}), ...(authorization ? { authorization } : {}) });
    };
    let reply = await send(creds && !digest ? basicAuthorization(creds.username, creds.password) : undefined);
    if ('refused' in reply) return reply;
    if ('error' in reply) return { error: reply.error, habits: { pathIndex: index, digest } };
    if (reply.status === 401 && creds) {
      const chosen = chooseDigest(reply.challenges.flatMap(parseChallenges));
      if (chosen && 'error' in chosen) return { failure: chosen.error, habits: { pathIndex: index, digest: true } };
      if (chosen) {
        digest = true;
        reply = await send(digestAuthorization({
          challenge: chosen, username: creds.username, password: creds.password, method: 'GET',
          // The request target exactly as Node sends it.
          uri: `${url.pathname}${url.search}`, cnonce: randomBytes(16).toString('hex'), nc: 1,
        }));
      } else if (digest) {
        // The phone was set back to Basic: its challenge says so.
        digest = false;
        reply = await send(basicAuthorization(creds.username, creds.password));
      }
      if ('refused' in reply) return reply;
      if ('error' in reply) return { error: reply.error, habits: { pathIndex: index, digest } };
    }
    if (reply.status === 404 && paths.length > 1 && !fellBack) {
      fellBack = true;
      index = (index + 1) % paths.length;
      continue;
    }
    return { reply, habits: { pathIndex: index, digest } };
  }
}
