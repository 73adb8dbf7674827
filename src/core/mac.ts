/** MAC addresses arrive as `00:15:65:AA:BB:CC`, `00-15-65-aa-bb-cc`, `0015.65aa.bbcc` or `001565AABBCC`. */

const SEPARATORS = /[:\-.\s]/g;

/** 12 lowercase hex digits, or undefined when the text is not a MAC address in any common spelling. */
export function normalizeMac(text: string): string | undefined {
  const bare = text.replace(SEPARATORS, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(bare) ? bare : undefined;
}

/** `001565aabbcc` -> `00:15:65:aa:bb:cc` (for display). */
export function formatMac(mac: string, separator = ':'): string {
  return mac.match(/../g)?.join(separator) ?? mac;
}
