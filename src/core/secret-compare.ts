/**
 * The one way secrets are compared (ingest tokens, the admin token, session signatures, form tokens): in
 * time that does not depend on where the first differing byte is, so nobody can learn a secret byte by byte
 * from answer times. A length mismatch is answered at once: the length of a token is not the secret.
 */
import { timingSafeEqual } from 'node:crypto';

/** True when `given` is exactly `expected` (UTF-8 bytes); false for a missing value. */
export function equalSecrets(given: string | null | undefined, expected: string): boolean {
  if (given === null || given === undefined) return false;
  return equalSecretBytes(Buffer.from(given, 'utf8'), Buffer.from(expected, 'utf8'));
}

/** The same for bytes already in hand (the receiver keeps its token bytes, so a check allocates nothing more). */
export function equalSecretBytes(given: Uint8Array, expected: Uint8Array): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
