/**
 * Byte-level helpers for reading request targets as phones send them (raw bytes, percent-escapes that may be
 * invalid). Shared by the decoder and the receiver's HTTP front and redaction.
 */

export const AMP = 0x26; // &
export const SEMI = 0x3b; // ;
export const EQ = 0x3d; // =
export const QUESTION = 0x3f; // ?
export const SLASH = 0x2f; // /
export const PERCENT = 0x25; // %

/** Value of a hex digit byte, or -1. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Writes bytes[start, end) into `out` (from index 0) with each valid `%XX` escape decoded; an invalid escape
 * stays as typed, and `+` stays `+`. Returns how many bytes were written. `out` needs `end - start` bytes.
 * A caller that counted the `%` bytes in the input knows an escape was invalid when
 * `(end - start - written) / 2` (the escapes decoded) is fewer.
 */
export function percentDecodeInto(bytes: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === PERCENT && i + 2 < end) {
      const h = hexValue(bytes[i + 1]);
      const l = hexValue(bytes[i + 2]);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
    }
    out[n++] = c;
  }
  return n;
}
