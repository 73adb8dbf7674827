// Forwarding: the destinations (webhooks, MQTT) with their health and a "send a test event" button (or, for one
// a 410 Gone switched off, a "switch on again" button), and the delivery log with failures and their reasons, filterable by state, with a retry button for failed and dead
// deliveries. Refreshes itself every few seconds. Every value shown is text (destinations' errors quote what
// far-away servers answered).
import { getJson, listOf } from '../api.js';
import { h, replace, select } from '../dom.js';
import { formatMac, formatTime } from '../format.js';

const STATES = ['pending', 'failed', 'dead', 'delivered'];
const REFRESH_MS = 5000;
const PAGE = 100;

async function post(path) {
  // The JSON content type is the shape a page on another site cannot send (the receiver refuses a change without it).
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body: '{}' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  return body;
}

export function mount(root, route) {
  let destroyed = false;
  let state = STATES.includes(route.query.get('state')) ? route.query.get('state') : '';
  let rows = [];
  let next = null;
  const stateSel = select({ id: 'fwd-state' }, [['', 'All states'], ...STATES.map((s) => [s, s])], state);
  const notice = h('p', { class: 'muted', role: 'status', id: 'fwd-notice' });
  const destBox = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Loading…'));
  const logBox = h('div', { class: 'table-wrap' });
  const more = h('button', { type: 'button', hidden: true, onclick: () => loadLog(true) }, 'Older deliveries');
  stateSel.addEventListener('change', () => {
    state = stateSel.value;
    history.replaceState(null, '', state ? `#/forwarding?state=${state}` : '#/forwarding');
    loadLog(false);
  });
  root.append(h('div', { class: 'page forwarding-page' },
    h('h1', {}, 'Forwarding'),
    h('section', { class: 'card wide', 'aria-labelledby': 'fwd-dest' }, h('h2', { id: 'fwd-dest' }, 'Destinations'), destBox),
    notice,
    h('section', { class: 'card wide', 'aria-labelledby': 'fwd-log' },
      h('h2', { id: 'fwd-log' }, 'Delivery log'),
      h('form', { class: 'toolbar', onsubmit: (e) => e.preventDefault() }, h('label', {}, h('span', {}, 'State'), stateSel)),
      logBox, more)));

  function say(text, error = false, ...actions) {
    replace(notice, text, actions.length ? ' ' : null, actions);
    notice.className = error ? 'error' : 'muted';
  }

  async function loadDestinations() {
    try {
      const answer = await getJson('/api/v1/destinations');
      const list = listOf(answer, 'destinations');
      if (destroyed) return;
      // Several receivers on one database whose forwarding settings differ: say so above the table.
      const problems = (answer && answer.cluster && Array.isArray(answer.cluster.problems)) ? answer.cluster.problems : [];
      const warning = problems.length
        ? h('div', { class: 'error cluster-problems', role: 'alert' },
          h('p', {}, 'The receivers sharing this database do not forward alike:'),
          h('ul', {}, problems.map((p) => h('li', {}, String(p)))))
        : null;
      if (list.length === 0) {
        replace(destBox, warning, h('p', {}, 'Nothing is forwarded. Start the receiver with --webhook URL, --forward FILE or --mqtt mqtt://host:1883.'));
        return;
      }
      replace(destBox, warning, h('table', { class: 'destinations' },
        h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Target', 'Health', 'Queued', 'In flight', 'Last success', 'Last failure', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((d) => h('tr', { dataset: { destination: d.name } },
          h('th', { scope: 'row' }, d.name),
          h('td', {}, d.kind),
          h('td', {}, h('code', { class: 'given' }, d.target)),
          healthCell(d),
          h('td', {}, String(d.queued)),
          h('td', {}, String(d.in_flight)),
          h('td', {}, d.last_success_at ? formatTime(d.last_success_at) : '–'),
          h('td', {}, d.last_failure_at ? formatTime(d.last_failure_at) : '–'),
          h('td', {}, d.enabled
            ? h('button', { type: 'button', class: 'test-event', onclick: () => sendTest(d.name) }, 'Send a test event')
            : h('button', { type: 'button', class: 'enable', onclick: () => enable(d.name) }, 'Switch on again')))))));
    } catch (err) {
      if (!destroyed) replace(destBox, h('p', { class: 'error' }, `Could not load the destinations: ${err.message}`));
    }
  }

  // The colour follows the same decision as the words: only the healthy case is drawn as ok.
  function healthCell(d) {
    const problem = healthProblem(d);
    return h('td', { class: problem ? 'error' : 'ok', dataset: { health: '' } }, problem ?? 'ok');
  }

  function healthProblem(d) {
    if (!d.enabled) return `switched off${d.disabled_at ? ` since ${formatTime(d.disabled_at)}` : ''}: ${d.disabled_reason ?? ''}`;
    if (!d.connected) return 'not connected';
    if (d.last_failure_at && (!d.last_success_at || Date.parse(d.last_failure_at) > Date.parse(d.last_success_at))) return `failing: ${d.last_error ?? ''}`;
    return null;
  }

  async function sendTest(name) {
    try {
      await post(`/api/v1/destinations/${encodeURIComponent(name)}/test`);
      say(`A test event is on its way to ${name}; it shows in the log below.`);
      setTimeout(refresh, 500);
    } catch (err) {
      say(`The test event for ${name} could not be queued: ${err.message}`, true);
    }
  }

  async function enable(name) {
    try {
      await post(`/api/v1/destinations/${encodeURIComponent(name)}/enable`);
      say(`${name} takes deliveries again: new events and the retries that waited for it are sent now; retry its dead deliveries below to send them too.`);
      refresh();
    } catch (err) {
      say(`${name} could not be switched on: ${err.message}`, true);
    }
  }

  async function retry(id, destination) {
    try {
      await post(`/api/v1/deliveries/${id}/retry`);
      // A switched-off destination keeps the retry queued and sends nothing until it is switched on again:
      // say so (from its state now, not the table's), and offer the switch.
      const now = listOf(await getJson('/api/v1/destinations'), 'destinations').find((d) => d.name === destination);
      if (now && !now.enabled) {
        say(`Delivery ${id} waits: ${destination} is switched off, so it is sent only once ${destination} is switched on again.`, false,
          h('button', { type: 'button', class: 'enable', onclick: () => enable(destination) }, `Switch ${destination} on again`));
      } else {
        say(`Delivery ${id} is sent again.`);
      }
      setTimeout(refresh, 500);
    } catch (err) {
      say(`Delivery ${id} could not be retried: ${err.message}`, true);
    }
  }

  async function loadLog(append) {
    try {
      const body = await getJson('/api/v1/deliveries', { state, limit: PAGE, before: append ? next : undefined });
      if (destroyed) return;
      const page = listOf(body, 'deliveries');
      rows = append ? [...rows, ...page] : page;
      next = body.next;
      more.hidden = next === null || next === undefined;
      renderLog();
    } catch (err) {
      if (!destroyed) replace(logBox, h('p', { class: 'error' }, `Could not load the delivery log: ${err.message}`));
    }
  }

  function renderLog() {
    if (rows.length === 0) {
      replace(logBox, h('p', { class: 'muted' }, state ? `No ${state} deliveries.` : 'No deliveries yet.'));
      return;
    }
    replace(logBox, h('table', { class: 'deliveries' },
      h('thead', {}, h('tr', {}, ['Id', 'Created', 'Destination', 'Type', 'Phone', 'State', 'Attempts', 'Last answer', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((d) => h('tr', { dataset: { id: d.id, state: d.state } },
        h('td', {}, String(d.id)),
        h('td', {}, formatTime(d.created_at)),
        h('td', { class: 'given' }, d.destination),
        h('td', {}, h('code', {}, breakable(d.type))),
        h('td', {}, d.mac ? formatMac(d.mac) : '–'),
        h('td', { class: d.state === 'dead' || d.state === 'failed' ? 'error' : '' }, d.state),
        h('td', {}, String(d.attempts)),
        h('td', { class: 'reason given' }, d.last_error ?? (d.last_status ? `HTTP ${d.last_status}` : '–')),
        h('td', {}, d.state === 'failed' || d.state === 'dead'
          ? h('button', { type: 'button', class: 'retry', onclick: () => retry(d.id, d.destination) }, 'Retry')
          : null))))));
  }

  function refresh() {
    if (destroyed) return;
    void loadDestinations();
    void loadLog(false);
  }

  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return {
    unmount() {
      destroyed = true;
      clearInterval(timer);
    },
  };
}

/** An event type (`phone.always_fwd_on`) that a narrow column may wrap after its dots and underscores only. */
function breakable(type) {
  return String(type).split(/(?<=[._])/).flatMap((part, i) => (i === 0 ? [part] : [h('wbr'), part]));
}
