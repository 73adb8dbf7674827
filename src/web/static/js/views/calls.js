// Calls: the call log across phones with filters (phone, outcome, time range), totals, and a chart of calls
// per hour by outcome. Refreshes itself (debounced) when call events arrive on the stream.
import { catalog, getJson, listOf } from '../api.js';
import { callsPerHourChart } from '../chart.js';
import { given, h, replace, select } from '../dom.js';
import { callParty, countsAsAnswered, formatDuration, formatMac, formatTime, normalizeMac, OUTCOMES, toLocalInput, toMs } from '../format.js';
import { onEvent, onResync } from '../stream.js';

const SHOW_ROWS = 500;
/** The chart and totals cover at most this many calls (the newest in the range). */
const MAX_CALLS = 20000;
const DAY = 86400000;

export function mount(root, route) {
  let destroyed = false;
  let cat = null;
  let shown = SHOW_ROWS;
  let all = [];
  let capped = false;
  const f = readFilters(route.query);

  const macInput = h('input', { type: 'search', id: 'calls-mac', placeholder: 'any phone', value: f.mac, autocomplete: 'off' });
  const groupSel = select({ id: 'calls-group' }, [['', 'All groups'], ...(f.group ? [[f.group, f.group]] : [])], f.group);
  const exports = h('p', { class: 'exports' });
  const outcomeSel = select({ id: 'calls-outcome' }, [['', 'All outcomes'], ...OUTCOMES.map((o) => [o, o])], f.outcome);
  const fromInput = h('input', { type: 'datetime-local', id: 'calls-from', value: toLocalInput(f.from) });
  const toInput = h('input', { type: 'datetime-local', id: 'calls-to', value: f.to ? toLocalInput(f.to) : '' });
  const live = h('input', { type: 'checkbox', id: 'calls-live', checked: true });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const totals = h('section', { class: 'totals', 'aria-label': 'Totals' });
  const chartBox = h('section', { 'aria-label': 'Chart' });
  const tableBox = h('section', { 'aria-label': 'Call log' });
  root.append(h('div', { class: 'page calls-page' },
    h('h1', {}, 'Calls'),
    h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => { e.preventDefault(); apply(); } },
      h('label', {}, h('span', {}, 'Phone (MAC)'), macInput),
      h('label', {}, h('span', {}, 'Outcome'), outcomeSel),
      h('label', {}, h('span', {}, 'Group'), groupSel),
      h('label', {}, h('span', {}, 'From'), fromInput),
      h('label', {}, h('span', {}, 'To'), toInput),
      h('button', { type: 'submit' }, 'Apply'),
      h('div', { class: 'quick', role: 'group', 'aria-label': 'Time range' },
        [['1 h', 3600000], ['24 h', DAY], ['7 days', 7 * DAY]].map(([label, span]) =>
          h('button', { type: 'button', onclick: () => { f.from = Date.now() - span; f.to = 0; fromInput.value = toLocalInput(f.from); toInput.value = ''; apply(); } }, label))),
      h('label', { class: 'check' }, live, h('span', {}, 'Update live'))),
    status, exports, totals, chartBox, tableBox));

  const names = new Map();
  getJson('/api/v1/inventory').then((inv) => {
    if (destroyed) return;
    for (const e of inv?.inventory ?? []) if (e.name) names.set(e.mac, e.name);
    // The calls may have come first: show them again with the phones' names.
    if (all.length) render();
    const groups = Array.isArray(inv?.groups) ? inv.groups : [];
    if (f.group && !groups.includes(f.group)) groups.unshift(f.group);
    replace(groupSel, h('option', { value: '' }, 'All groups'), groups.map((g) => h('option', { value: g, selected: g === f.group }, g)));
  }, () => {});

  /** Download links for the whole range and filters (the API streams them; no row limit). */
  function renderExports() {
    const q = new URLSearchParams();
    if (f.mac) q.set('mac', f.mac);
    if (f.outcome) q.set('outcome', f.outcome);
    if (f.group) q.set('group', f.group);
    q.set('since', new Date(f.from).toISOString());
    if (f.to) q.set('until', new Date(f.to).toISOString());
    replace(exports, 'Export these calls: ',
      h('a', { href: `/api/v1/calls?${q}&format=csv`, download: 'calls.csv', id: 'calls-export-csv' }, 'CSV'),
      h('a', { href: `/api/v1/calls?${q}&format=jsonl`, download: 'calls.jsonl', id: 'calls-export-jsonl' }, 'JSON lines'));
  }

  function inRange(c) {
    const t = c.started;
    if (Number.isNaN(t)) return true;
    return t >= f.from && (!f.to || t <= f.to);
  }

  function render() {
    const calls = all.filter(inRange);
    const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
    let talk = 0;
    let talked = 0;
    for (const c of calls) {
      byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1;
      // Talk of calls that count as answered, and of calls still in progress; a call answered and then lost
      // (failed) has no talk time here, as in the reports.
      if (!Number.isNaN(c.answered) && (countsAsAnswered(c.outcome) || c.outcome === 'ongoing')) {
        talk += (Number.isNaN(c.ended) ? Date.now() : c.ended) - c.answered;
        talked++;
      }
    }
    // The share the reports call the answer rate: over incoming calls that ended, the ones whose outcome
    // counts as answered (not merely those with an answer time).
    const incoming = calls.filter((c) => c.raw.direction === 'incoming' && c.outcome !== 'ongoing');
    const answeredIn = incoming.filter((c) => countsAsAnswered(c.outcome)).length;
    replace(totals,
      stat('Calls', calls.length),
      ...OUTCOMES.filter((o) => byOutcome[o] > 0).map((o) => stat(o, byOutcome[o], o)),
      stat('Talk time', formatDuration(talk)),
      stat('Average call', talked ? formatDuration(talk / talked) : '–'),
      stat('Incoming answered', incoming.length ? `${Math.round((100 * answeredIn) / incoming.length)} %` : '–'));
    replace(chartBox, callsPerHourChart(calls, f.from, f.to || Date.now(), OUTCOMES));
    const rows = calls.slice(0, shown);
    replace(tableBox,
      calls.length === 0 ? h('p', { class: 'muted' }, 'No calls match.') : h('div', { class: 'table-wrap' },
        h('table', { class: 'calls' },
          h('thead', {}, h('tr', {}, ['Started', 'Phone', 'Direction', 'With', 'Outcome', 'Ring', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows.map((c) => h('tr', { dataset: { outcome: String(c.outcome) } },
            h('td', { class: 'nowrap' }, formatTime(c.raw.started_at)),
            h('td', {}, c.mac ? h('a', { href: `#/phone/${encodeURIComponent(c.mac)}`, class: names.has(c.mac) ? 'given' : 'nowrap' }, names.get(c.mac) || formatMac(c.mac)) : '–'),
            h('td', {}, String(c.raw.direction ?? '')),
            h('td', {}, given(callParty(c.raw))),
            h('td', {}, h('span', { class: 'outcome', dataset: { outcome: String(c.outcome) } }, String(c.outcome))),
            h('td', { class: 'nowrap' }, formatDuration((Number.isNaN(c.answered) ? c.ended : c.answered) - c.started)),
            h('td', { class: 'nowrap' }, Number.isNaN(c.answered) ? '–' : formatDuration((Number.isNaN(c.ended) ? Date.now() : c.ended) - c.answered))))))),
      calls.length > shown
        ? h('p', {}, h('button', { type: 'button', onclick: () => { shown += SHOW_ROWS; render(); } }, `Show more (${calls.length - shown} left)`))
        : null);
    status.textContent = `${calls.length} calls${f.mac ? ` of ${formatMac(f.mac)}` : ''}${f.outcome ? `, ${f.outcome}` : ''}`
      + (capped ? ` (the newest ${MAX_CALLS}; narrow the time range to see older ones).` : '.');
  }

  let loading = false;
  let loadAgain = false;
  async function load() {
    if (loading) {
      loadAgain = true;
      return;
    }
    loading = true;
    try {
      renderExports();
      const params = { mac: f.mac, outcome: f.outcome, group: f.group, since: new Date(f.from).toISOString(), limit: 1000 };
      const list = [];
      let before;
      do {
        const body = await getJson('/api/v1/calls', { ...params, before });
        if (destroyed) return;
        list.push(...listOf(body, 'calls'));
        before = body && body.next !== null && body.next !== undefined ? body.next : undefined;
      } while (before !== undefined && list.length < MAX_CALLS);
      capped = before !== undefined;
      all = list.map((c) => ({
        raw: c,
        mac: String(c.mac ?? ''),
        outcome: String(c.outcome ?? 'ongoing'),
        started: toMs(c.started_at),
        answered: toMs(c.answered_at),
        ended: toMs(c.ended_at),
      })).filter((c) => (!f.outcome || c.outcome === f.outcome) && (!f.mac || !c.mac || c.mac === f.mac));
      all.sort((a, b) => (b.started || 0) - (a.started || 0));
      render();
    } catch (err) {
      if (!destroyed) status.textContent = `Could not load calls: ${err.message}`;
    } finally {
      loading = false;
      if (loadAgain && !destroyed) {
        loadAgain = false;
        load();
      }
    }
  }

  function apply() {
    const typed = macInput.value.trim();
    f.mac = typed ? normalizeMac(typed) || typed.toLowerCase() : '';
    f.outcome = outcomeSel.value;
    f.group = groupSel.value;
    const from = Date.parse(fromInput.value);
    const to = Date.parse(toInput.value);
    f.from = Number.isNaN(from) ? Date.now() - DAY : from;
    f.to = Number.isNaN(to) ? 0 : to;
    shown = SHOW_ROWS;
    const q = new URLSearchParams();
    if (f.mac) q.set('mac', f.mac);
    if (f.outcome) q.set('outcome', f.outcome);
    if (f.group) q.set('group', f.group);
    q.set('from', String(f.from));
    if (f.to) q.set('to', String(f.to));
    history.replaceState(null, '', `#/calls?${q}`);
    load();
  }
  outcomeSel.addEventListener('change', apply);
  groupSel.addEventListener('change', apply);

  let timer = 0;
  const offEvent = onEvent((event) => {
    if (!live.checked) return;
    // A phone change without an event (calls closed by the clock) changes the call log too.
    const kind = event ? cat?.incidentBySlug.get(event.incident)?.kind : 'call';
    if (kind !== undefined && kind !== 'call') return;
    clearTimeout(timer);
    timer = setTimeout(load, 500);
  });
  const offResync = onResync(load);
  catalog().then((c) => { cat = c; }, () => {});
  load();

  return {
    unmount() {
      destroyed = true;
      clearTimeout(timer);
      offEvent();
      offResync();
    },
  };
}

function stat(label, value, outcome) {
  return h('div', { class: 'stat', dataset: outcome ? { outcome } : {} }, h('span', { class: 'stat-label' }, label), h('b', { class: 'stat-value' }, String(value)));
}

function readFilters(query) {
  const from = Number(query.get('from'));
  const to = Number(query.get('to'));
  return {
    mac: normalizeMac(query.get('mac') ?? '') || (query.get('mac') ?? ''),
    outcome: OUTCOMES.includes(query.get('outcome')) ? query.get('outcome') : '',
    group: query.get('group') ?? '',
    from: Number.isFinite(from) && from > 0 ? from : Date.now() - DAY,
    to: Number.isFinite(to) && to > 0 ? to : 0,
  };
}
