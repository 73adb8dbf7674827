// Formatting of times, durations, MACs and state names for display. Pure functions, no DOM.

export const PRESENCES = ['talking', 'held', 'dialing', 'ringing', 'idle', 'dnd', 'unregistered', 'offline'];

const PRESENCE_LABELS = {
  idle: 'Idle',
  ringing: 'Ringing',
  dialing: 'Dialing',
  talking: 'Talking',
  held: 'On hold',
  dnd: 'DND',
  unregistered: 'Unregistered',
  offline: 'Offline',
};

export function presenceLabel(p) {
  return PRESENCE_LABELS[p] ?? String(p ?? 'unknown');
}

export const OUTCOMES = ['ongoing', 'answered', 'missed', 'rejected', 'forwarded', 'transferred', 'failed'];

/**
 * The outcomes that count as answered, the same definition as the receiver's call log and reports: answered,
 * or answered then handed on. A call answered and then lost (a failed blind transfer) is `failed`, not answered.
 */
export const ANSWERED_OUTCOMES = ['answered', 'transferred'];

/** Whether a call counts as answered once it ended (an ongoing call is not counted either way yet). */
export function countsAsAnswered(outcome) {
  return ANSWERED_OUTCOMES.includes(outcome);
}

/** Epoch ms from what the API sends (epoch ms, epoch seconds, or an ISO string); NaN when absent. */
export function toMs(value) {
  if (value === null || value === undefined || value === '') return NaN;
  if (typeof value === 'number') return value < 1e11 ? value * 1000 : value;
  if (/^\d+(\.\d+)?$/.test(value)) return toMs(Number(value));
  return Date.parse(value);
}

const pad = (n) => String(n).padStart(2, '0');

/** `14:03:27`, with the date in front when it is not today. */
export function formatTime(value, now = Date.now()) {
  const ms = toMs(value);
  if (Number.isNaN(ms)) return '–';
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Full local timestamp with milliseconds, for the event log. */
export function formatTimestamp(value) {
  const ms = toMs(value);
  if (Number.isNaN(ms)) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `0:07`, `12:30`, `1:02:03` from milliseconds. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/** `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function formatAgo(value, now = Date.now()) {
  const ms = toMs(value);
  if (Number.isNaN(ms)) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** `001565aabbcc` -> `00:15:65:aa:bb:cc`. */
export function formatMac(mac) {
  const m = String(mac ?? '');
  return /^[0-9a-f]{12}$/.test(m) ? m.match(/../g).join(':') : m;
}

/** 12 lowercase hex digits from a typed MAC in any common spelling, or '' when it is not one. */
export function normalizeMac(text) {
  const bare = String(text ?? '').replace(/[:\-.\s]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(bare) ? bare : '';
}

/** Who a call is with: `Display Name (number)`, or whichever of the two is known. */
export function callParty(call) {
  if (!call) return '';
  const name = call.display_remote ?? call.displayRemote ?? '';
  const remote = shortUri(call.remote ?? '');
  if (name && remote && name !== remote) return `${name} (${remote})`;
  return name || remote || '';
}

/** `sip:201@pbx.example.com` -> `201@pbx.example.com`; the number is what people recognise. */
export function shortUri(uri) {
  return String(uri ?? '').replace(/^sips?:/i, '');
}

/** Value of `<input type="datetime-local">` for an epoch ms. */
export function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
