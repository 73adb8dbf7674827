// Call control: buttons that send a command to a phone through the receiver (which sends it to the phone
// over the vendor's remote-control URL) and show the command's progress: sent, accepted by the phone,
// confirmed by the phone's own Action URL, or failed with the reason. Used on a phone's page and the board.
import { getJson, postJson } from './api.js';
import { h, replace, setText } from './dom.js';

const POLL_MS = 150;
/** The receiver fails an unconfirmed command after its own timeout; stop polling well after that. */
const GIVE_UP_MS = 120_000;

const BUTTONS = [
  ['dial', 'Dial'],
  ['answer', 'Answer'],
  ['hangup', 'Hang up'],
  ['hold', 'Hold'],
  ['unhold', 'Resume'],
  ['dnd_on', 'DND on'],
  ['dnd_off', 'DND off'],
];

const LABEL = Object.fromEntries(BUTTONS);

/**
 * `macOf()` names the phone the buttons act on (empty: none chosen yet). Returns `{ el, stop }`; `stop`
 * ends any polling when the page goes away.
 */
export function controlPanel(macOf, { id = 'control' } = {}) {
  let stopped = false;
  const number = h('input', { type: 'tel', id: `${id}-number`, name: 'number', placeholder: '2001', autocomplete: 'off', maxlength: '64', 'aria-label': 'Number to dial' });
  const progress = h('ol', { class: 'control-progress', id: `${id}-progress`, 'aria-live': 'polite' });
  const buttons = BUTTONS.map(([command, label]) => h('button', {
    type: 'button', class: 'control-btn', dataset: { command }, onclick: () => send(command),
  }, label));
  const form = h('form', { class: 'control', id, onsubmit: (e) => { e.preventDefault(); send('dial'); } },
    h('label', {}, h('span', {}, 'Number'), number),
    buttons);

  async function send(command) {
    const mac = macOf();
    const line = h('li', { class: 'command', dataset: { command, status: 'sending' } });
    const what = command === 'dial' ? `${LABEL.dial} ${number.value.trim()}` : LABEL[command];
    const text = h('span', { class: 'status' }, 'sending…');
    replace(line, h('strong', {}, what), ' ', text);
    progress.prepend(line);
    while (progress.children.length > 5) progress.lastElementChild.remove();
    if (!mac) return done(line, text, 'failed', 'choose a phone first');
    const body = command === 'dial' ? { command, number: number.value.trim() } : { command };
    let c;
    try {
      c = await postJson(`/api/v1/phones/${encodeURIComponent(mac)}/commands`, body);
    } catch (err) {
      return done(line, text, 'failed', err.message);
    }
    const until = Date.now() + GIVE_UP_MS;
    for (;;) {
      show(line, text, c);
      if (c.status === 'confirmed' || c.status === 'failed' || stopped || Date.now() > until) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
      try {
        c = await getJson(`/api/v1/commands/${encodeURIComponent(c.id)}`);
      } catch (err) {
        return done(line, text, 'failed', err.message);
      }
    }
  }

  return { el: h('div', { class: 'control-panel' }, form, progress), stop: () => { stopped = true; } };
}

function show(line, text, c) {
  if (c.status === 'failed') return done(line, text, 'failed', c.reason ?? '');
  if (c.status === 'confirmed') return done(line, text, 'confirmed', c.confirmed_by ? `by ${c.confirmed_by.incident}` : '');
  line.dataset.status = c.status;
  setText(text, c.status === 'accepted' ? 'accepted by the phone, waiting for its Action URL…' : 'sent…');
}

function done(line, text, status, detail) {
  line.dataset.status = status;
  setText(text, detail ? `${status}: ${detail}` : status);
}
