// The dashboard shell: hash routing between pages, the stream status in the header, sign-out.
// Pages live in views/*.js; each exports mount(root, route) -> { unmount(), update?(route) }.
import { onStatus, startStream } from './stream.js';
import * as board from './views/board.js';
import * as phone from './views/phone.js';
import * as calls from './views/calls.js';
import * as events from './views/events.js';
import * as setup from './views/setup.js';
import * as forwarding from './views/forwarding.js';
import * as reports from './views/reports.js';

const VIEWS = { board, phone, calls, events, reports, forwarding, setup };

const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline – retrying',
};

/** `#/phone/001565aabbcc?x=1` -> { name: 'phone', args: ['001565aabbcc'], query: URLSearchParams } */
export function parseRoute(hash) {
  const body = hash.startsWith('#/') ? hash.slice(2) : 'board';
  const q = body.indexOf('?');
  const path = q >= 0 ? body.slice(0, q) : body;
  const query = new URLSearchParams(q >= 0 ? body.slice(q + 1) : '');
  const [name, ...args] = path.split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { name: VIEWS[name] ? name : 'board', args, query };
}

let current = null;
let currentName = '';

function route() {
  // Other fragments (none today) are in-page anchors, not routes.
  if (location.hash && !location.hash.startsWith('#/')) return;
  const r = parseRoute(location.hash);
  const main = document.getElementById('main');
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.view === r.name || (r.name === 'phone' && a.dataset.view === 'board')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current && currentName === r.name && current.update) {
    current.update(r);
    return;
  }
  if (current) current.unmount();
  main.replaceChildren();
  currentName = r.name;
  current = VIEWS[r.name].mount(main, r);
}

async function showSignOut() {
  try {
    const res = await fetch('/ui/session.json', { credentials: 'same-origin' });
    const session = await res.json();
    document.getElementById('logout').hidden = session.signed_in !== true;
  } catch {
    // Without the answer the button stays hidden; signing out is still possible at /logout.
  }
}

function start() {
  const status = document.getElementById('stream-status');
  onStatus((s) => {
    status.dataset.status = s;
    status.textContent = STATUS_TEXT[s] ?? s;
  });
  startStream();
  window.addEventListener('hashchange', route);
  route();
  showSignOut();
}

start();
