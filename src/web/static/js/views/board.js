// Board: every phone with its live presence, updated from the event stream without reloading.
//
// The receiver owns the phone-state logic (the reducer), so the board never guesses a presence from an
// event: it shows the state the receiver computed. The stream sends that state right after each event; an
// event that comes without it (replayed after a reconnect) marks its phone for a re-fetch of
// /api/v1/phones/<mac>. Re-fetches are coalesced (one per phone at a time, a few in parallel, a full reload
// when a whole fleet changed at once), and the list renders only the rows in view.
import { fetchAllPhones, fetchPhone, getJson, sendJson } from '../api.js';
import { h, replace, select, setText } from '../dom.js';
import { callParty, formatAgo, formatDuration, formatMac, PRESENCES, presenceLabel, shortUri, toMs } from '../format.js';
import { onEvent, onResync } from '../stream.js';
import { VirtualList } from '../virtual-list.js';
import { controlPanel } from '../control.js';

const MAX_PARALLEL_FETCHES = 4;
/** How long an event waits for its phone's new state on the stream before the board fetches it. */
const PHONE_STATE_WAIT_MS = 300;
/** Above this many phones waiting for a re-fetch, one full reload is cheaper. */
const FULL_RELOAD_THRESHOLD = 400;

const COLUMNS = [
  { key: 'presence', label: 'Presence' },
  { key: 'mac', label: 'Phone' },
  { key: 'model', label: 'Model' },
  { key: 'account', label: 'Account' },
  { key: 'call', label: 'Call' },
  { key: 'since', label: 'Since' },
  { key: 'flags', label: 'Flags', sortable: false },
];

/** What the board shows of a phone, computed once per update (sorting and searching use it). */
function entry(phone, rev) {
  // The phone's `calls` are the calls not yet ended; the first is the one the phone reports on. The phones
  // list sends only that one (`call`) and how many are open (`open_calls`); the stream sends them all.
  const calls = Array.isArray(phone.calls) ? phone.calls.filter((c) => c && !c.ended_at) : phone.call ? [phone.call] : [];
  const call = calls[0] ?? null;
  const openCalls = Array.isArray(phone.calls) ? calls.length : Number(phone.open_calls ?? calls.length);
  const accounts = Array.isArray(phone.accounts)
    ? phone.accounts.map((a) => (typeof a === 'string' ? a : (a.id ?? a.account ?? [a.user, a.host].filter(Boolean).join('@')))).filter(Boolean)
    : [];
  const failed = Array.isArray(phone.accounts) && phone.accounts.some((a) => a && a.failed);
  const fwd = phone.forward ?? {};
  const muted = Boolean(phone.muted) || calls.some((c) => c.muted);
  const flags = [];
  if (phone.dnd) flags.push(['dnd', 'DND']);
  if (fwd.always) flags.push(['fwd', 'FWD always']);
  if (fwd.busy) flags.push(['fwd', 'FWD busy']);
  if (fwd.no_answer) flags.push(['fwd', 'FWD no answer']);
  if (muted) flags.push(['mute', 'Muted']);
  if (openCalls > 1) flags.push(['calls', `${openCalls} calls`]);
  if (failed) flags.push(['fail', 'Reg failed']);
  const party = callParty(call);
  const since = call ? toMs(call.answered_at ?? call.started_at) : NaN;
  const presence = String(phone.presence ?? 'offline');
  const direction = call ? (call.direction === 'incoming' ? '←' : call.direction === 'outgoing' ? '→' : '') : '';
  const groups = Array.isArray(phone.groups) ? phone.groups.map(String) : [];
  const search = [
    phone.name, phone.location, ...groups,
    phone.mac, formatMac(phone.mac), phone.ip, phone.model, phone.firmware, ...accounts,
    party, call && shortUri(call.remote), presenceLabel(presence),
  ].filter(Boolean).join('\n').toLowerCase();
  return {
    mac: String(phone.mac),
    phone,
    rev,
    presence,
    presenceRank: PRESENCES.indexOf(presence) < 0 ? PRESENCES.length : PRESENCES.indexOf(presence),
    name: String(phone.name ?? ''),
    location: String(phone.location ?? ''),
    groups,
    model: String(phone.model ?? ''),
    firmware: String(phone.firmware ?? ''),
    ip: String(phone.ip ?? ''),
    accounts,
    account: accounts.join(', '),
    call,
    party,
    direction,
    since,
    lastSeen: toMs(phone.last_seen),
    flags,
    flagKey: flags.map((f) => f[1]).join('|'),
    search,
  };
}

const COMPARE = {
  presence: (a, b) => a.presenceRank - b.presenceRank,
  mac: (a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0),
  model: (a, b) => a.model.localeCompare(b.model),
  account: (a, b) => a.account.localeCompare(b.account),
  call: (a, b) => (a.party ? 0 : 1) - (b.party ? 0 : 1) || a.party.localeCompare(b.party),
  // Longest-running call first, then most recently active phone.
  since: (a, b) => (Number.isNaN(a.since) ? Infinity : a.since) - (Number.isNaN(b.since) ? Infinity : b.since)
    || (Number.isNaN(b.lastSeen) ? 0 : b.lastSeen) - (Number.isNaN(a.lastSeen) ? 0 : a.lastSeen),
};

export function mount(root, route) {
  const entries = new Map();
  let view = [];
  let revCounter = 0;
  let loaded = false;
  let loadError = '';
  const filters = readFilters(route.query);

  // --- layout ---------------------------------------------------------------------------------------
  const summary = h('div', { class: 'summary', role: 'group', 'aria-label': 'Phones by presence' });
  const search = h('input', { type: 'search', id: 'board-search', placeholder: 'MAC, IP, name, number…', value: filters.q, autocomplete: 'off' });
  const presenceSel = select({ id: 'board-presence' }, [['', 'All'], ...PRESENCES.map((p) => [p, presenceLabel(p)])], filters.presence);
  const modelSel = select({ id: 'board-model' }, [['', 'All models']], filters.model);
  const groupSel = select({ id: 'board-group' }, [['', 'All groups']], filters.group);
  const importInput = h('input', { type: 'file', id: 'inventory-import', accept: '.csv,text/csv' });
  const importStatus = h('span', { role: 'status', id: 'inventory-status', class: 'muted' });
  const account = h('input', { type: 'search', id: 'board-account', placeholder: 'user@host', value: filters.account, autocomplete: 'off' });
  const sortSel = select({ id: 'board-sort' }, COLUMNS.filter((c) => c.sortable !== false).map((c) => [c.key, c.label]), filters.sort);
  const dirBtn = h('button', { type: 'button', class: 'dir', id: 'board-dir' });
  const count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  const headerCells = COLUMNS.map((c) => {
    const cell = h('div', { role: 'columnheader', class: `cell c-${c.key}` });
    if (c.sortable === false) cell.textContent = c.label;
    else cell.appendChild(h('button', { type: 'button', class: 'sort', onclick: () => setSort(c.key) }, c.label));
    return cell;
  });
  const viewport = h('div', { class: 'board-viewport', role: 'rowgroup', tabindex: '0', 'aria-label': 'Phones (scroll)' });
  const table = h('div', { class: 'board', role: 'table', 'aria-label': 'Phones', 'aria-rowcount': '1' },
    h('div', { class: 'row head', role: 'row', 'aria-rowindex': '1' }, headerCells),
    viewport);
  const empty = h('p', { class: 'empty', hidden: true });
  // Call control for the phone picked with a row's ☎ button.
  let controlled = '';
  const controlledName = h('strong', { id: 'board-control-phone' }, 'none: press ☎ on a row');
  const control = controlPanel(() => controlled, { id: 'board-control' });
  const controlBox = h('section', { class: 'board-control', 'aria-label': 'Call control' },
    h('p', {}, 'Call control: ', controlledName), control.el);
  viewport.addEventListener('click', (e) => {
    const pick = e.target.closest?.('button.pick');
    const row = pick?.closest('.row');
    if (!row?.dataset.mac) return;
    controlled = row.dataset.mac;
    setText(controlledName, formatMac(controlled));
  });
  root.append(
    h('div', { class: 'page board-page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Board'), summary),
      h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault() },
        h('label', {}, h('span', {}, 'Search'), search),
        h('label', {}, h('span', {}, 'Presence'), presenceSel),
        h('label', {}, h('span', {}, 'Model'), modelSel),
        h('label', {}, h('span', {}, 'Group'), groupSel),
        h('label', {}, h('span', {}, 'Account'), account),
        h('label', {}, h('span', {}, 'Sort by'), sortSel),
        dirBtn),
      h('p', { class: 'exports' },
        h('a', { href: '/api/v1/inventory?format=csv', download: 'inventory.csv', id: 'inventory-export' }, 'Export inventory (CSV)'),
        h('label', { class: 'button-like' }, h('span', {}, 'Import inventory (CSV): '), importInput),
        importStatus),
      controlBox,
      count,
      table,
      empty));

  const list = new VirtualList(viewport, { createRow, fillRow, versionOf: (e) => e?.rev });

  // --- filtering and sorting ------------------------------------------------------------------------
  let recomputeScheduled = false;
  function scheduleRecompute() {
    if (recomputeScheduled) return;
    recomputeScheduled = true;
    requestAnimationFrame(() => {
      recomputeScheduled = false;
      recompute();
    });
  }

  function recompute() {
    const q = filters.q.trim().toLowerCase();
    const acc = filters.account.trim().toLowerCase();
    const out = [];
    const counts = Object.fromEntries(PRESENCES.map((p) => [p, 0]));
    const models = new Set();
    const groups = new Set(knownGroups);
    for (const e of entries.values()) {
      counts[e.presence] = (counts[e.presence] ?? 0) + 1;
      if (e.model) models.add(e.model);
      if (filters.presence && e.presence !== filters.presence) continue;
      if (filters.model && e.model !== filters.model) continue;
      if (filters.group && !e.groups.includes(filters.group)) continue;
      for (const g of e.groups) groups.add(g);
      if (acc && !e.account.toLowerCase().includes(acc)) continue;
      if (q && !e.search.includes(q)) continue;
      out.push(e);
    }
    const cmp = COMPARE[filters.sort] ?? COMPARE.presence;
    const dir = filters.dir === 'desc' ? -1 : 1;
    out.sort((a, b) => dir * cmp(a, b) || COMPARE.mac(a, b));
    view = out;
    // Already in an animation frame: render now rather than wait for the next one.
    list.setItems(view, true);
    table.setAttribute('aria-rowcount', String(view.length + 1));
    renderSummary(counts);
    renderModels(models);
    renderGroups(groups);
    renderCount();
  }

  let knownGroups = [];
  function renderGroups(groups) {
    const sorted = [...groups].sort((a, b) => a.localeCompare(b));
    if (filters.group && !groups.has(filters.group)) sorted.unshift(filters.group);
    const key = sorted.join('\n');
    if (groupSel.dataset.key === key) return;
    groupSel.dataset.key = key;
    replace(groupSel, h('option', { value: '' }, 'All groups'), sorted.map((g) => h('option', { value: g, selected: g === filters.group }, g)));
    groupSel.value = filters.group;
  }

  function loadGroups() {
    getJson('/api/v1/inventory').then((inv) => {
      knownGroups = Array.isArray(inv?.groups) ? inv.groups : [];
      scheduleRecompute();
    }, () => {});
  }

  importInput.addEventListener('change', async () => {
    const file = importInput.files?.[0];
    if (!file) return;
    importStatus.textContent = 'Importing…';
    try {
      const answer = await sendJson('POST', '/api/v1/inventory', await file.text(), 'text/csv');
      importStatus.textContent = `Imported ${answer.imported} phones.`;
      loadGroups();
      reload();
    } catch (err) {
      importStatus.textContent = `Not imported: ${err.message}`;
    } finally {
      importInput.value = '';
    }
  });

  function renderSummary(counts) {
    const key = PRESENCES.map((p) => counts[p]).join(',') + filters.presence;
    if (summary.dataset.key === key) return;
    summary.dataset.key = key;
    replace(summary, PRESENCES.filter((p) => counts[p] > 0 || p === filters.presence).map((p) =>
      h('button', {
        type: 'button',
        class: 'chip',
        dataset: { presence: p },
        'aria-pressed': String(filters.presence === p),
        onclick: () => setFilter('presence', filters.presence === p ? '' : p),
      }, `${presenceLabel(p)} `, h('b', {}, String(counts[p])))));
  }

  function renderModels(models) {
    const sorted = [...models].sort();
    if (filters.model && !models.has(filters.model)) sorted.unshift(filters.model);
    const key = sorted.join('\n');
    if (modelSel.dataset.key === key) return;
    modelSel.dataset.key = key;
    replace(modelSel, h('option', { value: '' }, 'All models'), sorted.map((m) => h('option', { value: m, selected: m === filters.model }, m)));
    modelSel.value = filters.model;
  }

  function renderCount() {
    if (!loaded) {
      setText(count, loadError ? `Could not load phones: ${loadError}` : 'Loading phones…');
    } else {
      setText(count, view.length === entries.size ? `${entries.size} phones` : `${view.length} of ${entries.size} phones`);
    }
    empty.hidden = !loaded || view.length > 0;
    setText(empty, entries.size === 0
      ? 'No phone has sent an event yet. Point your phones at this receiver (see Set-up), or press "Send a test event" there.'
      : 'No phone matches these filters.');
    for (const [i, c] of COLUMNS.entries()) {
      if (c.sortable === false) continue;
      headerCells[i].setAttribute('aria-sort', filters.sort === c.key ? (filters.dir === 'desc' ? 'descending' : 'ascending') : 'none');
    }
    setText(dirBtn, filters.dir === 'desc' ? '↓ Descending' : '↑ Ascending');
  }

  function setFilter(key, value) {
    filters[key] = value;
    if (key === 'presence') presenceSel.value = value;
    writeFilters(filters);
    scheduleRecompute();
  }

  function setSort(key) {
    if (filters.sort === key) filters.dir = filters.dir === 'desc' ? 'asc' : 'desc';
    else filters.sort = key;
    sortSel.value = filters.sort;
    writeFilters(filters);
    scheduleRecompute();
  }

  search.addEventListener('input', () => setFilter('q', search.value));
  account.addEventListener('input', () => setFilter('account', account.value));
  presenceSel.addEventListener('change', () => setFilter('presence', presenceSel.value));
  modelSel.addEventListener('change', () => setFilter('model', modelSel.value));
  groupSel.addEventListener('change', () => setFilter('group', groupSel.value));
  sortSel.addEventListener('change', () => setFilter('sort', sortSel.value));
  dirBtn.addEventListener('click', () => setFilter('dir', filters.dir === 'desc' ? 'asc' : 'desc'));

  // --- data -----------------------------------------------------------------------------------------
  function applyPhone(phone) {
    if (!phone || !phone.mac) return;
    const old = entries.get(String(phone.mac));
    if (old && isOlder(phone, old.phone)) return;
    entries.set(String(phone.mac), entry(phone, ++revCounter));
    scheduleRecompute();
  }

  const pending = new Set();
  const inFlight = new Set();
  let reloading = false;
  let reloadAgain = false;
  let destroyed = false;

  function queueFetch(mac) {
    pending.add(mac);
    pump();
  }

  function pump() {
    if (reloading || destroyed) return;
    if (pending.size > FULL_RELOAD_THRESHOLD) {
      pending.clear();
      reload();
      return;
    }
    for (const mac of pending) {
      if (inFlight.size >= MAX_PARALLEL_FETCHES) break;
      // One fetch per phone at a time, so an older answer never overwrites a newer one.
      if (inFlight.has(mac)) continue;
      pending.delete(mac);
      inFlight.add(mac);
      fetchPhone(mac)
        .then(applyPhone, () => {})
        .finally(() => {
          inFlight.delete(mac);
          pump();
        });
    }
  }

  async function reload() {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    const startRev = revCounter;
    try {
      const phones = await fetchAllPhones();
      if (destroyed) return;
      const seen = new Set();
      for (const p of phones) {
        if (!p || !p.mac) continue;
        seen.add(String(p.mac));
        const old = entries.get(String(p.mac));
        if (old && isOlder(p, old.phone)) continue;
        if (!old || JSON.stringify(old.phone) !== JSON.stringify(p)) entries.set(String(p.mac), entry(p, ++revCounter));
      }
      // A phone the stream added while the list was loading is newer than the list, not gone.
      for (const [mac, e] of entries) if (!seen.has(mac) && e.rev <= startRev) entries.delete(mac);
      loaded = true;
      loadError = '';
    } catch (err) {
      loadError = err.message;
    } finally {
      reloading = false;
    }
    scheduleRecompute();
    if (reloadAgain) {
      reloadAgain = false;
      reload();
    } else {
      pump();
    }
  }

  // Events still waiting for their phone's state: mac -> timer.
  const waiting = new Map();
  // Subscribe before loading: what arrives while the list loads is applied or fetched afterwards.
  const offEvent = onEvent((event, { phone }) => {
    if (phone && phone.mac) {
      const mac = String(phone.mac);
      clearTimeout(waiting.get(mac));
      waiting.delete(mac);
      applyPhone(phone);
      return;
    }
    if (!event) return;
    const mac = String(event.mac);
    if (waiting.has(mac)) return;
    waiting.set(mac, setTimeout(() => {
      waiting.delete(mac);
      queueFetch(mac);
    }, PHONE_STATE_WAIT_MS));
  });
  const offResync = onResync(() => reload());
  reload();
  loadGroups();
  renderCount();
  // "Since" and "ago" columns move with the clock.
  const clock = setInterval(() => list.refresh(), 1000);

  return {
    update(r) {
      const next = readFilters(r.query);
      Object.assign(filters, next);
      search.value = filters.q;
      account.value = filters.account;
      presenceSel.value = filters.presence;
      modelSel.value = filters.model;
      groupSel.value = filters.group;
      sortSel.value = filters.sort;
      scheduleRecompute();
    },
    unmount() {
      destroyed = true;
      control.stop();
      for (const t of waiting.values()) clearTimeout(t);
      offEvent();
      offResync();
      clearInterval(clock);
      list.destroy();
    },
  };
}

/**
 * True when `next` is an older state than `current` (answers and stream messages can cross): each state
 * names the last event applied to it. Equal ids are newer news (a call closed by the clock, no event).
 */
function isOlder(next, current) {
  const a = Number(next.last_event_id);
  const b = Number(current.last_event_id);
  return Number.isFinite(a) && Number.isFinite(b) && a < b;
}

// --- rows ---------------------------------------------------------------------------------------------
function createRow() {
  const cells = {};
  const row = h('div', { class: 'row', role: 'row' });
  for (const c of COLUMNS) {
    cells[c.key] = h('div', { role: 'cell', class: `cell c-${c.key}` });
    row.appendChild(cells[c.key]);
  }
  cells.badge = h('span', { class: 'badge' });
  cells.presence.appendChild(cells.badge);
  // Two lines beside the ☎ button: the MAC (the link, never cut), then name · location · IP, which may be
  // long and is cut with an ellipsis. A row has room for two lines, so the name shares the second one.
  cells.pick = h('button', { type: 'button', class: 'pick', title: 'Call control for this phone', 'aria-label': 'Call control for this phone' }, '☎');
  cells.link = h('a', { class: 'mac' });
  cells.name = h('span', { class: 'phone-name' });
  cells.ip = h('span', { class: 'ip' });
  cells.about = h('span', { class: 'sub about' }, cells.name, cells.ip);
  cells.mac.append(cells.pick, cells.link, cells.about);
  cells.modelName = h('span', {});
  cells.firmware = h('span', { class: 'sub' });
  cells.model.append(cells.modelName, cells.firmware);
  cells.dir = h('span', { class: 'dir-arrow', 'aria-hidden': 'true' });
  cells.party = h('span', { class: 'party' });
  cells.call.append(cells.dir, cells.party);
  row.cells = cells;
  return row;
}

function fillRow(row, e) {
  const c = row.cells;
  if (row.dataset.mac !== e.mac) row.dataset.mac = e.mac;
  if (row.dataset.presence !== e.presence) row.dataset.presence = e.presence;
  if (c.badge.dataset.presence !== e.presence) c.badge.dataset.presence = e.presence;
  setText(c.badge, presenceLabel(e.presence));
  const href = `#/phone/${encodeURIComponent(e.mac)}`;
  if (c.link.getAttribute('href') !== href) c.link.setAttribute('href', href);
  setText(c.link, formatMac(e.mac));
  setText(c.name, [e.name, e.location].filter(Boolean).join(' · '));
  setText(c.ip, e.ip);
  const about = [e.name, e.location, e.ip].filter(Boolean).join(' · ');
  if (c.about.title !== about) c.about.title = about;
  setText(c.modelName, e.model);
  setText(c.firmware, e.firmware);
  setText(c.account, e.account);
  // What a narrow column cuts short stays readable on hover.
  const model = [e.model, e.firmware].filter(Boolean).join(' ');
  if (c.model.title !== model) c.model.title = model;
  if (c.account.title !== e.account) c.account.title = e.account;
  setText(c.dir, e.direction);
  setText(c.party, e.party);
  if (c.party.title !== e.party) c.party.title = e.party;
  const now = Date.now();
  setText(c.since, !Number.isNaN(e.since) ? formatDuration(now - e.since) : Number.isNaN(e.lastSeen) ? '–' : formatAgo(e.lastSeen, now));
  if (c.flags.dataset.key !== e.flagKey) {
    c.flags.dataset.key = e.flagKey;
    replace(c.flags, e.flags.map(([kind, label]) => h('span', { class: `flag flag-${kind}` }, label)));
    // A narrow column shows the first flags and an ellipsis; all of them are on hover.
    c.flags.title = e.flags.map((f) => f[1]).join(', ');
  }
}

// --- filters in the address (shareable, survive reload) -----------------------------------------------
function readFilters(query) {
  return {
    q: query.get('q') ?? '',
    presence: PRESENCES.includes(query.get('presence')) ? query.get('presence') : '',
    model: query.get('model') ?? '',
    group: query.get('group') ?? '',
    account: query.get('account') ?? '',
    sort: COMPARE[query.get('sort')] ? query.get('sort') : 'presence',
    dir: query.get('dir') === 'desc' ? 'desc' : 'asc',
  };
}

function writeFilters(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (v && !(k === 'sort' && v === 'presence') && !(k === 'dir' && v === 'asc')) q.set(k, v);
  }
  const s = q.toString();
  history.replaceState(null, '', `#/board${s ? `?${s}` : ''}`);
}
