// The live event stream, shared by every page: one EventSource for the app.
//
// Nothing may be lost or shown twice. The receiver tags each event with `id:`; when the connection drops,
// the browser reconnects by itself and sends `Last-Event-ID`, so the receiver replays what was missed.
// Replays can overlap what already arrived, so events are de-duplicated by id here, once, for all pages.
// When the browser gives up (the server answered with an error instead of a stream), a new EventSource
// resumes with `?last_event_id=` instead; only if no event had arrived yet are pages told to re-sync from
// the REST API.
//
// The stream is opened with `phones=1`: after each event the receiver sends the phone's new state as an
// `event: phone` message (and also when a phone changes without an event), so the board needs no extra
// request. Replayed events come without it; pages fetch those phones themselves.

import { apiShape } from './api.js';

const eventSubscribers = new Set();
const statusSubscribers = new Set();
const resyncSubscribers = new Set();

/** Ids already delivered, oldest first, bounded. */
const seen = new Set();
const SEEN_LIMIT = 100000;

let source = null;
let status = 'connecting';
let reopenDelay = 1000;
let reopenTimer = 0;
let continuityLost = false;
let lastEventId = '';

function setStatus(next) {
  if (next === status) return;
  status = next;
  for (const fn of statusSubscribers) fn(status);
}

function remember(id) {
  seen.add(id);
  if (seen.size > SEEN_LIMIT) {
    // Sets iterate in insertion order: drop the oldest tenth.
    let drop = SEEN_LIMIT / 10;
    for (const old of seen) {
      seen.delete(old);
      if (--drop <= 0) break;
    }
  }
}

function onMessage(message) {
  let data;
  try {
    data = JSON.parse(message.data);
  } catch {
    return;
  }
  if (!data || typeof data !== 'object') return;
  // An event (plain message), a phone's new state (`event: phone`), or an envelope { event, phone }.
  const isEnvelope = data.event && typeof data.event === 'object';
  const isPhone = !isEnvelope && (message.type === 'phone' || (!data.incident && data.mac && 'presence' in data));
  const event = isEnvelope ? apiShape(data.event) : isPhone ? null : apiShape(data);
  const phoneRaw = isPhone ? data : isEnvelope && data.phone && typeof data.phone === 'object' ? data.phone : null;
  const phone = phoneRaw ? apiShape(phoneRaw) : null;
  if (event && !event.mac) return;
  const id = String(event?.id ?? message.lastEventId ?? '');
  if (event && id !== '') {
    if (seen.has(id)) return;
    remember(id);
    lastEventId = id;
  }
  const receivedAt = performance.now();
  for (const fn of eventSubscribers) {
    try {
      fn(event, { phone, receivedAt });
    } catch (err) {
      console.error(err);
    }
  }
}

function open() {
  reopenTimer = 0;
  // On the browser's own reconnects the Last-Event-ID header wins over this parameter.
  source = new EventSource(`/api/v1/stream?phones=1${lastEventId ? `&last_event_id=${encodeURIComponent(lastEventId)}` : ''}`);
  source.addEventListener('open', () => {
    reopenDelay = 1000;
    setStatus('live');
    if (continuityLost) {
      continuityLost = false;
      for (const fn of resyncSubscribers) fn();
    }
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // The browser will not retry by itself: start over, and let pages catch up from the REST API.
      source.close();
      source = null;
      if (!lastEventId) continuityLost = true;
      setStatus('offline');
      checkSession();
      reopenTimer = setTimeout(open, reopenDelay);
      reopenDelay = Math.min(reopenDelay * 2, 30000);
    } else {
      setStatus('reconnecting');
    }
  });
  source.addEventListener('message', onMessage);
  source.addEventListener('phone', onMessage);
}

async function checkSession() {
  try {
    const res = await fetch('/ui/session.json', { credentials: 'same-origin' });
    const session = await res.json();
    if (session.auth && !session.authorized) location.assign(`/login${location.hash.startsWith('#/') ? location.hash : ''}`);
  } catch {
    // The server is down: the reopen timer keeps trying.
  }
}

/** Opens the stream once. */
export function startStream() {
  if (!source && !reopenTimer) open();
}

/**
 * `fn(event, { phone, receivedAt })` for each new event; `event` is null for a phone whose state changed
 * without one (then `phone` is set). Returns an unsubscribe function.
 */
export function onEvent(fn) {
  eventSubscribers.add(fn);
  return () => eventSubscribers.delete(fn);
}

/** `fn(status)` now and on each change: 'connecting' | 'live' | 'reconnecting' | 'offline'. */
export function onStatus(fn) {
  statusSubscribers.add(fn);
  fn(status);
  return () => statusSubscribers.delete(fn);
}

/** `fn()` after the stream restarted without being able to resume: reload state from the REST API. */
export function onResync(fn) {
  resyncSubscribers.add(fn);
  return () => resyncSubscribers.delete(fn);
}

export function streamStatus() {
  return status;
}

export function lastStreamEventId() {
  return lastEventId;
}
