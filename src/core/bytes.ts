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
