// Phone: one phone's identity, accounts, flags, current calls, its call history and a timeline of its
// recent events with every variable the phone sent. Live: stream events for this phone are added to the
// timeline as they arrive and trigger a re-fetch of the phone (and of its calls, for call incidents).
import { catalog, getJson, incidentName, listOf, sendJson } from '../api.js';
import { given, h, replace } from '../dom.js';
import {
  callParty, formatAgo, formatDuration, formatMac, formatTime, formatTimestamp, normalizeMac, presenceLabel, toMs,
} from '../format.js';
import { onEvent, onResync } from '../stream.js';
import { controlPanel } from '../control.js';
import { controlSettingsForm } from './phone-control-form.js';

const TIMELINE_LIMIT = 100;
const TIMELINE_MAX = 1000;

export function mount(root, route) {
  const mac = normalizeMac(route.args[0]) || String(route.args[0] ?? '');
  let destroyed = false;
  let cat = null;
  const timeline = new Map();
  let older = null;

  const title = h('h1', {}, `Phone ${formatMac(mac)}`);
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const identity = h('section', { class: 'card identity-card', 'aria-labelledby': 'ph-id' });
  const nameInput = h('input', { type: 'text', id: 'inv-name', maxlength: '100', autocomplete: 'off' });
  const locationInput = h('input', { type: 'text', id: 'inv-location', maxlength: '100', autocomplete: 'off' });
  const groupsInput = h('input', { type: 'text', id: 'inv-groups', placeholder: 'sales, front desk', autocomplete: 'off' });
  const invStatus = h('p', { class: 'muted', role: 'status', id: 'inv-status' });
  const purgeBox = h('input', { type: 'checkbox', id: 'forget-purge' });
  const forgetBtn = h('button', { type: 'button', id: 'forget', class: 'danger', onclick: () => { confirmBtn.hidden = false; forgetBtn.hidden = true; } }, 'Forget this phone…');
  const confirmBtn = h('button', { type: 'button', id: 'forget-confirm', class: 'danger', hidden: true, onclick: forget }, 'Yes, forget it');
  const forgetStatus = h('p', { role: 'status', id: 'forget-status' });
  const inventoryBox = h('section', { class: 'card', 'aria-labelledby': 'ph-inv' },
    h('h2', { id: 'ph-inv' }, 'Name, location, groups'),
    h('form', { class: 'inventory-form', onsubmit: (e) => { e.preventDefault(); saveInventory(); } },
      h('label', {}, h('span', {}, 'Name'), nameInput),
      h('label', {}, h('span', {}, 'Location'), locationInput),
      h('label', {}, h('span', {}, 'Groups (separated by commas)'), groupsInput),
      h('p', {}, h('button', { type: 'submit', id: 'inv-save' }, 'Save'))),
    invStatus,
    h('h3', {}, 'Forget'),
    h('p', { class: 'muted' }, 'The phone leaves the board; if it sends an event again, it comes back as a new phone.'),
    h('label', { class: 'check' }, purgeBox, h('span', {}, 'Also delete its events and calls')),
    h('p', {}, forgetBtn, ' ', confirmBtn),
    forgetStatus);
  const accounts = h('section', { class: 'card table-card', 'aria-labelledby': 'ph-acc' });
  const current = h('section', { class: 'card table-card', 'aria-labelledby': 'ph-cur' });
  const callsBox = h('section', { class: 'card wide', 'aria-labelledby': 'ph-calls' });
  const control = controlPanel(() => mac, { id: 'phone-control' });
  const controlSettings = controlSettingsForm(mac);
  const controlBox = h('section', { class: 'card wide', 'aria-labelledby': 'ph-ctl' },
    h('h2', { id: 'ph-ctl' }, 'Call control'),
    h('p', { class: 'muted' }, 'Sent to the phone over its remote-control URL; confirmed when its Action URL reports the effect.'),
    control.el,
    controlSettings.el);
  const timelineList = h('ol', { class: 'timeline', reversed: true });
  const moreBtn = h('button', { type: 'button', hidden: true, onclick: () => loadEvents(true) }, 'Load older events');
  root.append(h('div', { class: 'page phone-page' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/board' }, '← Board')),
    title,
    status,
    h('div', { class: 'cards' }, identity, inventoryBox, accounts, current, controlBox, callsBox,
      h('section', { class: 'card wide', 'aria-labelledby': 'ph-tl' },
        h('h2', { id: 'ph-tl' }, 'Recent events'),
        timelineList,
        moreBtn))));

  // --- phone ------------------------------------------------------------------------------------------
  let inventoryShown = false;
  // Typing may start before the phone has loaded: what was typed is not replaced by what the phone had.
  let inventoryEdited = false;
  for (const input of [nameInput, locationInput, groupsInput]) input.addEventListener('input', () => { inventoryEdited = true; });
  /** Saves made so far: a phone read that was sent before the latest save answers with what it replaced. */
  let saves = 0;
  function renderPhone(p) {
    replace(status);
    status.hidden = true;
    title.textContent = p.name ? `${p.name} (${formatMac(p.mac)})` : `Phone ${formatMac(p.mac)}`;
    // The form keeps what the administrator is typing; it is filled from the phone once.
    if (!inventoryShown) {
      inventoryShown = true;
      if (!inventoryEdited) {
        nameInput.value = p.name ?? '';
        locationInput.value = p.location ?? '';
        groupsInput.value = (p.groups ?? []).join(', ');
      }
    }
    const fwd = p.forward ?? {};
    const flags = [
      ['DND', p.dnd ? 'on' : 'off'],
      ['Forward always', fwd.always ? 'on' : 'off'],
      ['Forward when busy', fwd.busy ? 'on' : 'off'],
      ['Forward on no answer', fwd.no_answer ? 'on' : 'off'],
    ];
    if (p.muted !== undefined) flags.push(['Muted', p.muted ? 'yes' : 'no']);
    if (p.off_hook !== undefined) flags.push(['Handset', p.off_hook ? 'off hook' : 'on hook']);
    replace(identity,
      h('h2', { id: 'ph-id' }, 'Identity and state'),
      h('p', {}, h('span', { class: 'badge big', dataset: { presence: String(p.presence) } }, presenceLabel(p.presence))),
      dl([
        ['Name', p.name],
        ['Location', p.location],
        ['Groups', (p.groups ?? []).join(', ')],
        ['MAC', h('span', { class: 'nowrap' }, formatMac(p.mac))],
        ['IP address', p.ip],
        ['Model', p.model],
        ['Firmware', p.firmware],
        ['Registered', p.registered === true ? 'yes' : p.registered === false ? 'no' : 'unknown'],
        ['Last seen', p.last_seen ? `${formatTime(p.last_seen)} (${formatAgo(p.last_seen)})` : '–'],
        ...(p.first_seen ? [['First seen', formatTimestamp(p.first_seen)]] : []),
        ...flags,
      ]));
    const accs = Array.isArray(p.accounts) ? p.accounts : [];
    replace(accounts,
      h('h2', { id: 'ph-acc' }, 'Accounts'),
      accs.length === 0
        ? h('p', { class: 'muted' }, p.registered === true ? 'Registered (the phone has not named the account).' : 'No account reported yet.')
        : table(['Account', 'Display name', 'Registration', 'Since'], accs.map((a) => [
          given(typeof a === 'string' ? a : (a.id ?? a.account ?? '')),
          given(a.display_name ?? ''),
          a.failed ? 'failed' : a.registered === true ? 'registered' : a.registered === false ? 'unregistered' : 'unknown',
          a.since ? formatTime(a.since) : '–',
        ])));
    const calls = Array.isArray(p.calls) ? p.calls.filter((c) => c && !c.ended_at) : [];
    replace(current,
      h('h2', { id: 'ph-cur' }, 'Current calls'),
      calls.length === 0
        ? h('p', { class: 'muted' }, 'No call right now.')
        : table(['Direction', 'With', 'State', 'Since', 'Call id'], calls.map((c) => [
          c.direction ?? '',
          given(callParty(c)),
          [c.phase ?? c.outcome ?? '', c.muted ? ' (muted)' : ''].join(''),
          formatDuration(Date.now() - toMs(c.answered_at ?? c.started_at)),
          given(c.call_id ?? ''),
        ])));
  }

  async function saveInventory() {
    const body = {
      name: nameInput.value,
      location: locationInput.value,
      groups: groupsInput.value.split(',').map((g) => g.trim()).filter(Boolean),
    };
    invStatus.textContent = 'Saving…';
    try {
      const p = await sendJson('PATCH', `/api/v1/phones/${encodeURIComponent(mac)}`, body);
      if (destroyed) return;
      saves++;
      invStatus.textContent = 'Saved.';
      if (p.presence !== undefined) renderPhone(p);
    } catch (err) {
      if (!destroyed) invStatus.textContent = `Not saved: ${err.message}`;
    }
  }

  async function forget() {
    const purge = purgeBox.checked;
    forgetStatus.textContent = 'Forgetting…';
    try {
      await sendJson('DELETE', `/api/v1/phones/${encodeURIComponent(mac)}${purge ? '?purge=events' : ''}`);
      if (destroyed) return;
      location.hash = '#/board';
    } catch (err) {
      if (!destroyed) forgetStatus.textContent = `Not forgotten: ${err.message}`;
    }
  }

  async function loadPhone() {
    const savesBefore = saves;
    try {
      const p = await getJson(`/api/v1/phones/${encodeURIComponent(mac)}`);
      if (destroyed) return;
      // Read before a save that has finished since: the name and groups in it are the old ones; read again.
      if (saves !== savesBefore) return loadPhone();
      renderPhone(p);
    } catch (err) {
      if (destroyed) return;
      status.hidden = false;
      replace(status, err.status === 404 ? 'This phone has not sent any event yet. This page fills in when it does.' : `Could not load the phone: ${err.message}`);
    }
  }

  // --- calls --------------------------------------------------------------------------------------------
  async function loadCalls() {
    try {
      const calls = listOf(await getJson('/api/v1/calls', { mac }), 'calls');
      if (destroyed) return;
      replace(callsBox,
        h('h2', { id: 'ph-calls' }, 'Calls'),
        calls.length === 0 ? h('p', { class: 'muted' }, 'No calls yet.') : table(
          ['Started', 'Direction', 'With', 'Outcome', 'Duration'],
          calls.map((c) => [
            formatTime(c.started_at),
            c.direction ?? '',
            given(callParty(c)),
            h('span', { class: 'outcome', dataset: { outcome: String(c.outcome) } }, String(c.outcome ?? '')),
            callDuration(c),
          ])));
    } catch (err) {
      if (!destroyed) replace(callsBox, h('h2', { id: 'ph-calls' }, 'Calls'), h('p', { class: 'error' }, `Could not load calls: ${err.message}`));
    }
  }

  // --- timeline -------------------------------------------------------------------------------------------
  function addEvents(list, atTop) {
    const fresh = list.filter((e) => e && e.id !== undefined && !timeline.has(String(e.id)));
    for (const e of fresh) timeline.set(String(e.id), e);
    const items = fresh.map((e) => eventItem(e, cat));
    if (atTop) timelineList.prepend(...items.reverse());
    else timelineList.append(...items);
    while (timelineList.children.length > TIMELINE_MAX) {
      const last = timelineList.lastElementChild;
      timeline.delete(last.dataset.id);
      last.remove();
    }
  }

  async function loadEvents(more) {
    try {
      const body = await getJson('/api/v1/events', { mac, limit: TIMELINE_LIMIT, before: more ? older : undefined });
      if (destroyed) return;
      const list = listOf(body, 'events');
      addEvents(list, false);
      older = body && body.next !== undefined && body.next !== null ? body.next : null;
      moreBtn.hidden = older === null || list.length === 0;
      if (timeline.size === 0) timelineList.replaceChildren(h('li', { class: 'muted' }, 'No events yet.'));
    } catch (err) {
      if (!destroyed) timelineList.append(h('li', { class: 'error' }, `Could not load events: ${err.message}`));
    }
  }

  // --- live -----------------------------------------------------------------------------------------------
  let phoneTimer = 0;
  let callsTimer = 0;
  const offEvent = onEvent((event, { phone }) => {
    if (!event) {
      if (phone && String(phone.mac) === mac) renderPhone(phone);
      return;
    }
    if (String(event.mac) !== mac) return;
    const placeholder = timelineList.querySelector('li.muted');
    if (placeholder) placeholder.remove();
    addEvents([event], true);
    // Coalesce bursts: one re-fetch per short quiet period.
    clearTimeout(phoneTimer);
    phoneTimer = setTimeout(() => {
      loadPhone();
      controlSettings.refresh();
    }, 30);
    const kind = cat?.incidentBySlug.get(event.incident)?.kind;
    if (kind === 'call' || kind === undefined) {
      clearTimeout(callsTimer);
      callsTimer = setTimeout(loadCalls, 300);
    }
  });
  const offResync = onResync(() => {
    loadPhone();
    loadCalls();
    timeline.clear();
    timelineList.replaceChildren();
    loadEvents(false);
  });
  const clock = setInterval(() => {
    for (const el of timelineList.querySelectorAll('.ago')) el.textContent = formatAgo(Number(el.dataset.ms));
  }, 5000);

  catalog().then((c) => { cat = c; }, () => {}).finally(() => {
    if (destroyed) return;
    loadPhone();
    loadCalls();
    loadEvents(false);
  });

  return {
    unmount() {
      destroyed = true;
      control.stop();
      controlSettings.stop();
      offEvent();
      offResync();
      clearInterval(clock);
      clearTimeout(phoneTimer);
      clearTimeout(callsTimer);
    },
  };
}

function callDuration(c) {
  const start = toMs(c.answered_at);
  const end = toMs(c.ended_at);
  if (Number.isNaN(start)) return '–';
  return formatDuration((Number.isNaN(end) ? Date.now() : end) - start);
}

/** One event in a timeline: time, incident, every variable as name = value (all as text). */
export function eventItem(e, cat) {
  const vars = e.vars && typeof e.vars === 'object' ? Object.entries(e.vars) : [];
  const extra = e.extra && typeof e.extra === 'object' ? Object.entries(e.extra) : [];
  const ms = toMs(e.received_at);
  return h('li', { class: 'event', dataset: { id: String(e.id), incident: String(e.incident) } },
    h('div', { class: 'event-head' },
      h('time', { datetime: Number.isNaN(ms) ? '' : new Date(ms).toISOString() }, formatTimestamp(e.received_at)),
      h('span', { class: 'ago muted', dataset: { ms: String(ms) } }, formatAgo(ms)),
      h('strong', { class: 'incident' }, incidentName(cat, e.incident)),
      h('code', { class: 'slug' }, String(e.incident)),
      e.source_ip ? h('span', { class: 'muted' }, `from ${e.source_ip}`) : null,
      h('span', { class: 'muted' }, `#${e.id}`)),
    vars.length + extra.length === 0 ? null : h('dl', { class: 'vars' },
      vars.map(([k, v]) => [h('dt', {}, `$${k}`), h('dd', {}, String(v))]),
      extra.map(([k, v]) => [h('dt', { class: 'extra', title: 'not an Action URL variable' }, k), h('dd', {}, String(v))])));
}

function dl(pairs) {
  return h('dl', { class: 'kv' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '–' : v)]));
}

export function table(headers, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v) => h('td', {}, v === undefined || v === null ? '' : v)))))));
}

