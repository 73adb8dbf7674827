// Events: the raw event log (filter by phone, incident, call id; live tail from the stream) and the requests
// the receiver refused, with the reason. Rows are keyed by event id, so a stream replay or an overlap between
// the REST page and the stream never shows an event twice.
import { catalog, getJson, incidentName, listOf } from '../api.js';
import { h, replace, select } from '../dom.js';
import { formatMac, formatTimestamp, normalizeMac, toMs } from '../format.js';
import { onEvent, onResync } from '../stream.js';

const PAGE = 100;
const MAX_ROWS = 2000;

export function mount(root, route) {
  let destroyed = false;
  let cat = null;
  const rows = new Map();
  let older = null;
  let loadSeq = 0;
  const f = readFilters(route.query);

  const macInput = h('input', { type: 'search', id: 'ev-mac', placeholder: '00:15:65:aa:bb:cc', value: f.mac, autocomplete: 'off' });
  const incidentSel = select({ id: 'ev-incident' }, [['', 'All incidents']], f.incident);
  const callInput = h('input', { type: 'search', id: 'ev-call', value: f.call_id, autocomplete: 'off' });
  const tail = h('input', { type: 'checkbox', id: 'ev-tail', checked: f.tail });
  const note = h('p', { class: 'muted', role: 'status' });
  const exports = h('p', { class: 'exports' });
  /** Download links for every event matching the filters (the API streams them; no row limit). */
  function renderExports() {
    const q = new URLSearchParams();
    if (f.mac) q.set('mac', f.mac);
    if (f.incident) q.set('incident', f.incident);
    if (f.call_id) q.set('call_id', f.call_id);
    const base = `/api/v1/events?${q}${q.size ? '&' : ''}`;
    replace(exports, 'Export these events: ',
      h('a', { href: `${base}format=csv`, download: 'events.csv', id: 'events-export-csv' }, 'CSV'),
      h('a', { href: `${base}format=jsonl`, download: 'events.jsonl', id: 'events-export-jsonl' }, 'JSON lines'));
  }
  renderExports();
  const tbody = h('tbody', {});
  const moreBtn = h('button', { type: 'button', hidden: true, onclick: () => load(true) }, 'Load older events');
  const rejectedBox = h('div', {});
  const tabs = {
    events: h('button', { type: 'button', role: 'tab', id: 'tab-events', 'aria-controls': 'panel-events' }, 'Events'),
    rejected: h('button', { type: 'button', role: 'tab', id: 'tab-rejected', 'aria-controls': 'panel-rejected' }, 'Rejected requests'),
  };
  const panels = {
    events: h('section', { id: 'panel-events', role: 'tabpanel', 'aria-labelledby': 'tab-events' },
      h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
        h('label', {}, h('span', {}, 'Phone (MAC)'), macInput),
        h('label', {}, h('span', {}, 'Incident'), incidentSel),
        h('label', {}, h('span', {}, 'Call id'), callInput),
        h('button', { type: 'submit' }, 'Apply'),
        h('label', { class: 'check' }, tail, h('span', {}, 'Live tail'))),
      note,
      exports,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'events' },
          h('thead', {}, h('tr', {}, ['Time', 'Phone', 'Incident', 'Variables', 'From'].map((t) => h('th', { scope: 'col' }, t)))),
          tbody)),
      moreBtn),
    rejected: h('section', { id: 'panel-rejected', role: 'tabpanel', 'aria-labelledby': 'tab-rejected' },
      h('p', {}, 'Requests the receiver could not use. Each is kept, with the reason it was refused.'),
      h('p', {}, h('button', { type: 'button', onclick: loadRejected }, 'Refresh')),
      rejectedBox),
  };
  root.append(h('div', { class: 'page events-page' },
    h('h1', {}, 'Events'),
    h('div', { class: 'tabs', role: 'tablist' }, tabs.events, tabs.rejected),
    panels.events, panels.rejected));

  function showTab(name) {
    for (const [k, t] of Object.entries(tabs)) {
      t.setAttribute('aria-selected', String(k === name));
      t.tabIndex = k === name ? 0 : -1;
      panels[k].hidden = k !== name;
    }
    if (name === 'rejected') loadRejected();
  }
  tabs.events.addEventListener('click', () => { f.tab = 'events'; write(); showTab('events'); });
  tabs.rejected.addEventListener('click', () => { f.tab = 'rejected'; write(); showTab('rejected'); });
  // Arrow keys move between tabs, as in every tab widget.
  for (const t of Object.values(tabs)) {
    t.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const next = f.tab === 'events' ? 'rejected' : 'events';
      f.tab = next;
      write();
      showTab(next);
      tabs[next].focus();
    });
  }

  function matches(e) {
    if (f.mac && String(e.mac) !== f.mac) return false;
    if (f.incident && e.incident !== f.incident) return false;
    if (f.call_id && String(e.vars?.call_id ?? '') !== f.call_id) return false;
    return true;
  }

  function row(e) {
    const vars = e.vars && typeof e.vars === 'object' ? Object.entries(e.vars) : [];
    const extra = e.extra && typeof e.extra === 'object' ? Object.entries(e.extra) : [];
    const ms = toMs(e.received_at);
    return h('tr', { dataset: { id: String(e.id), mac: String(e.mac), incident: String(e.incident) } },
      h('td', { class: 'nowrap' }, h('time', { datetime: Number.isNaN(ms) ? '' : new Date(ms).toISOString() }, formatTimestamp(e.received_at))),
      h('td', { class: 'nowrap' }, h('a', { href: `#/phone/${encodeURIComponent(String(e.mac))}` }, formatMac(String(e.mac)))),
      h('td', {}, h('span', { title: String(e.incident) }, incidentName(cat, e.incident))),
      h('td', {}, vars.length + extra.length === 0 ? h('span', { class: 'muted' }, '–') : h('ul', { class: 'pairs' },
        vars.map(([k, v]) => h('li', {}, h('span', { class: 'k' }, k), '=', h('span', { class: 'v' }, String(v)))),
        // Parameters that are not variables, as the phone named them.
        extra.map(([k, v]) => h('li', { class: 'extra', title: 'not an Action URL variable' }, h('span', { class: 'k' }, k), '=', h('span', { class: 'v' }, String(v)))))),
      h('td', { class: 'nowrap muted' }, String(e.source_ip ?? '')));
  }

  function add(list, atTop) {
    const fresh = list.filter((e) => e && e.id !== undefined && !rows.has(String(e.id)) && matches(e));
    const els = fresh.map((e) => {
      const el = row(e);
      rows.set(String(e.id), el);
      return el;
    });
    if (atTop) tbody.prepend(...els.reverse());
    else tbody.append(...els);
    while (tbody.children.length > MAX_ROWS) {
      const last = tbody.lastElementChild;
      rows.delete(last.dataset.id);
      last.remove();
    }
    note.textContent = rows.size === 0 ? 'No events match.' : `${rows.size} events shown${f.tail ? ', newest first, live' : ', newest first'}.`;
  }

  async function load(more) {
    const seq = ++loadSeq;
    if (!more) {
      rows.clear();
      tbody.replaceChildren();
      note.textContent = 'Loading…';
    }
    try {
      const body = await getJson('/api/v1/events', {
        mac: f.mac, incident: f.incident, call_id: f.call_id, limit: PAGE, before: more ? older : undefined,
      });
      if (destroyed || seq !== loadSeq) return;
      const list = listOf(body, 'events');
      add(list, false);
      older = body && body.next !== undefined && body.next !== null ? body.next : null;
      moreBtn.hidden = older === null || list.length === 0;
    } catch (err) {
      if (!destroyed) note.textContent = `Could not load events: ${err.message}`;
    }
  }

  async function loadRejected() {
    replace(rejectedBox, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const list = listOf(await getJson('/api/v1/rejected', { limit: 200 }), 'rejected');
      if (destroyed) return;
      if (list.length === 0) {
        replace(rejectedBox, h('p', { class: 'muted' }, 'No request was refused.'));
        return;
      }
      replace(rejectedBox, h('div', { class: 'table-wrap' },
        h('table', { class: 'rejected' },
          h('thead', {}, h('tr', {}, ['Time', 'From', 'Answer', 'Reason', 'Request'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map((r) => h('tr', { dataset: { id: String(r.id) } },
            h('td', { class: 'nowrap' }, formatTimestamp(r.received_at)),
            h('td', { class: 'nowrap' }, String(r.source_ip ?? '')),
            h('td', { class: 'nowrap' }, String(r.status ?? ''), Number(r.count) > 1 ? ` (×${r.count})` : ''),
            h('td', {}, String(r.reason ?? '')),
            h('td', {}, h('code', { class: 'raw' }, requestText(r)))))))));
    } catch (err) {
      if (!destroyed) replace(rejectedBox, h('p', { class: 'error' }, `Could not load rejected requests: ${err.message}`));
    }
  }

  function apply() {
    const typed = macInput.value.trim();
    f.mac = typed ? normalizeMac(typed) || typed.toLowerCase() : '';
    f.incident = incidentSel.value;
    f.call_id = callInput.value.trim();
    f.tail = tail.checked;
    write();
    renderExports();
    load(false);
  }
  incidentSel.addEventListener('change', apply);
  tail.addEventListener('change', () => { f.tail = tail.checked; write(); });

  function write() {
    const q = new URLSearchParams();
    if (f.mac) q.set('mac', f.mac);
    if (f.incident) q.set('incident', f.incident);
    if (f.call_id) q.set('call_id', f.call_id);
    if (!f.tail) q.set('tail', 'off');
    if (f.tab === 'rejected') q.set('tab', 'rejected');
    const s = q.toString();
    history.replaceState(null, '', `#/events${s ? `?${s}` : ''}`);
  }

  const offEvent = onEvent((event) => {
    if (event && f.tail) add([event], true);
  });
  const offResync = onResync(() => load(false));

  catalog().then((c) => {
    cat = c;
    if (destroyed) return;
    replace(incidentSel, h('option', { value: '' }, 'All incidents'),
      c.incidents.map((i) => h('option', { value: i.slug, selected: i.slug === f.incident }, `${i.name} (${i.slug})`)));
  }, () => {}).finally(() => {
    if (!destroyed) load(false);
  });
  showTab(f.tab);

  return {
    unmount() {
      destroyed = true;
      offEvent();
      offResync();
    },
  };
}

/** The refused request as the receiver kept it (tokens blanked): method and target. */
function requestText(r) {
  return `${r.method ? `${r.method} ` : ''}${r.raw ?? ''}`;
}

function readFilters(query) {
  return {
    mac: normalizeMac(query.get('mac') ?? '') || (query.get('mac') ?? ''),
    incident: query.get('incident') ?? '',
    call_id: query.get('call_id') ?? '',
    tail: query.get('tail') !== 'off',
    tab: query.get('tab') === 'rejected' ? 'rejected' : 'events',
  };
}
