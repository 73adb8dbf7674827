/**
 * Bounds on what one phone's requests can make the reducer keep. Phones do not authenticate and anyone on the
 * LAN can send what a phone sends, so every structure a phone's input sizes has a cap: the state (and with it
 * memory, checkpoints, replay and API answers) stays bounded whatever arrives. The caps are well above what
 * any real phone does and far below what a broken or hostile sender can produce.
 */

/**
 * Open calls per phone. Desk phones handle a few calls at once: call waiting gives two, a three-way
 * conference three, the largest models show up to about six on their line keys. Eight leaves room for
 * calls whose end was lost; a phone reporting hundreds of new call ids that never end cannot grow past it.
 */
export const MAX_OPEN_CALLS = 8;

/**
 * SIP accounts (lines) per phone. The models with the most lines register 16 accounts; a sender varying
 * `$active_url` cannot add more.
 */
export const MAX_ACCOUNTS = 16;

/**
 * Characters kept of a text value from a phone (display names, numbers, call ids, account names, model,
 * firmware, address). SIP display names are short in practice (phones show 20–30 characters) and URIs
 * rarely pass 100; 256 keeps every real value whole while a request line of 8 KiB cannot put kilobytes into
 * each field of each call. The event itself is stored whole; only the live state is trimmed.
 */
export const MAX_TEXT = 256;

/**
 * A duplicate check keeps the last event's content; beyond this length it keeps a digest instead, so a
 * phone sending long values does not make each state carry them twice.
 */
export const MAX_FINGERPRINT = 512;

/** `endedBy` of a call closed because its phone opened more than MAX_OPEN_CALLS calls. */
export const CALL_LIMIT = 'call_limit';

/** `value` cut to MAX_TEXT characters, without splitting a surrogate pair. */
export function clip(value: string): string {
  if (value.length <= MAX_TEXT) return value;
  const cut = value.charCodeAt(MAX_TEXT - 1);
  return value.slice(0, cut >= 0xd800 && cut <= 0xdbff ? MAX_TEXT - 1 : MAX_TEXT);
}
