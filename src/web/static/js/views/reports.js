// Reports: for any period (and group), per phone, account and group — calls in and out, answered, missed,
// answer rate, average ring time, service level (share of incoming calls answered within N seconds), talk
// time; missed calls per extension; the busiest hours as a weekday × hour heat map in the browser's time
// zone. All figures come from /api/v1/reports/… (summaries the receiver keeps as calls end). Printable.
import { getJson } from '../api.js';
import { given, h, replace, select } from '../dom.js';
import { formatDuration, formatMac } from '../format.js';

const DAY = 86400000;
const SERVICE_LEVELS = ['5', '10', '15', '20', '30', '60'];

/** `YYYY-MM-DD` of a local date. */
function dateInput(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a `YYYY-MM-DD`, or NaN. */
function localMidnight(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? '');
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : NaN;
}

export const percent = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)} %`);
export const seconds = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} s`);
export const talk = (x) => formatDuration(x * 1000);

/** The figure columns every table shares: [field, heading, format]. */
const FIGURES = [
  ['calls_in', 'In', String],
  ['calls_out', 'Out', String],
  ['answered_in', 'Answered', String],
  ['missed', 'Missed', String],
  ['answer_rate', 'Answer rate', percent],
  ['average_ring_seconds', 'Avg ring', seconds],
  ['service_level', 'Service level', percent],
  ['talk_seconds', 'Talk time', talk],
];

export function mount(root, route) {
  let destroyed = false;
  const q = route.query;
  const today = localMidnight(dateInput(Date.now()));
  const fromInput = h('input', { type: 'date', id: 'rep-from', value: q.get('from') ?? dateInput(today - 6 * DAY) });
  const toInput = h('input', { type: 'date', id: 'rep-to', value: q.get('to') ?? dateInput(today) });
  // The group from the address is an option from the start, before the inventory's list of groups arrives:
  // otherwise the first load (and a reload or a bookmark) would show all phones.
  const groupSel = select({ id: 'rep-group' }, [['', 'All phones']], '');
  setGroup(q.get('group') ?? '');
  const slSel = select({ id: 'rep-sl' }, SERVICE_LEVELS.map((s) => [s, `${s} s`]), q.get('sl') ?? '20');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const out = h('div', { class: 'report' });
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  root.append(h('div', { class: 'page reports-page' },
    h('h1', {}, 'Reports'),
    h('form', { class: 'toolbar no-print', onsubmit: (e) => { e.preventDefault(); apply(); } },
      h('label', {}, h('span', {}, 'From'), fromInput),
      h('label', {}, h('span', {}, 'To (including)'), toInput),
      h('label', {}, h('span', {}, 'Group'), groupSel),
      h('label', {}, h('span', {}, 'Service level within'), slSel),
      h('button', { type: 'submit' }, 'Apply'),
      h('button', { type: 'button', onclick: () => window.print() }, 'Print')),
    status, out));

  function setGroup(group) {
    if (group && ![...groupSel.options].some((o) => o.value === group)) groupSel.append(h('option', { value: group }, group));
    groupSel.value = group;
  }

  getJson('/api/v1/inventory').then((inv) => {
    if (destroyed) return;
    const current = groupSel.value;
    replace(groupSel, h('option', { value: '' }, 'All phones'), (inv.groups ?? []).map((g) => h('option', { value: g, selected: g === current }, g)));
    if (current && !(inv.groups ?? []).includes(current)) groupSel.append(h('option', { value: current, selected: true }, current));
  }, () => {});

  function apply() {
    const p = new URLSearchParams({ from: fromInput.value, to: toInput.value, sl: slSel.value });
    if (groupSel.value) p.set('group', groupSel.value);
    history.replaceState(null, '', `#/reports?${p}`);
    load();
  }

  async function load() {
    const from = localMidnight(fromInput.value);
    const to = localMidnight(toInput.value);
    if (Number.isNaN(from) || Number.isNaN(to) || to < from) {
      status.textContent = 'Choose a From date on or before the To date.';
      return;
    }
    const params = {
      from: new Date(from).toISOString(),
      to: new Date(to + DAY).toISOString(),
      group: groupSel.value,
      sl: slSel.value,
    };
    status.textContent = 'Loading…';
    try {
      const [phones, accounts, groups, heat] = await Promise.all([
        getJson('/api/v1/reports/phones', params),
        getJson('/api/v1/reports/accounts', params),
        getJson('/api/v1/reports/groups', params),
        getJson('/api/v1/reports/heatmap', { ...params, tz }),
      ]);
      if (destroyed) return;
      const sl = phones.service_level_seconds;
      const title = `${fromInput.value} to ${toInput.value}${groupSel.value ? `, group ${groupSel.value}` : ''}`;
      status.textContent = `${title}. Service level: incoming calls answered within ${sl} s. Times in ${tz}.`;
      const missed = accounts.accounts.filter((a) => a.missed > 0).sort((a, b) => b.missed - a.missed || a.account.localeCompare(b.account));
      replace(out,
        section('rep-phones', 'Per phone', figureTable('phones', ['Phone'], phones.phones, (r) => r.mac, (r) => [
          h('a', { href: `#/phone/${encodeURIComponent(r.mac)}` }, r.name || formatMac(r.mac)),
          r.name ? h('span', { class: 'sub' }, formatMac(r.mac)) : null,
        ])),
        section('rep-accounts', 'Per account', figureTable('accounts', ['Account'], accounts.accounts, (r) => r.account, (r) => [
          r.account || '(not named)', r.display_name ? h('span', { class: 'sub' }, r.display_name) : null,
        ])),
        section('rep-groups', 'Per group', groups.groups.length === 0
          ? h('p', { class: 'muted' }, 'No groups yet: give phones groups on their pages or import an inventory on the board.')
          : figureTable('groups', ['Group', 'Phones'], groups.groups, (r) => r.group, (r) => [r.group], (r) => [String(r.phones)])),
        section('rep-missed', 'Missed calls per extension', missed.length === 0 ? h('p', { class: 'muted' }, 'No missed calls.') : h('div', { class: 'table-wrap' },
          h('table', { class: 'report-table', dataset: { table: 'missed' } },
            h('thead', {}, h('tr', {}, ['Extension', 'Name', 'Missed'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, missed.map((a) => h('tr', { dataset: { key: a.account } },
              h('td', { dataset: { field: 'extension' } }, a.extension ? given(a.extension) : '(not named)'),
              h('td', {}, given(a.display_name ?? '')),
              h('td', { class: 'num', dataset: { field: 'missed' } }, String(a.missed)))))))),
        section('rep-heat', 'Busiest hours', heatTable(heat)));
    } catch (err) {
      if (!destroyed) status.textContent = `Could not load the reports: ${err.message}`;
    }
  }

  load();
  return {
    update(r) {
      fromInput.value = r.query.get('from') ?? fromInput.value;
      toInput.value = r.query.get('to') ?? toInput.value;
      setGroup(r.query.get('group') ?? '');
      if (SERVICE_LEVELS.includes(r.query.get('sl'))) slSel.value = r.query.get('sl');
      load();
    },
    unmount() {
      destroyed = true;
    },
  };
}

function section(id, title, body) {
  return h('section', { class: 'card wide report-section', 'aria-labelledby': id }, h('h2', { id }, title), body);
}

/** A table of figures: leading cells, then FIGURES; each row keyed for tests and links. */
function figureTable(name, heads, rows, keyOf, lead, extra = () => []) {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No calls in this period.');
  const extraHeads = heads.slice(1);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'report-table', dataset: { table: name } },
      h('thead', {}, h('tr', {}, [heads[0], ...extraHeads, ...FIGURES.map((f) => f[1])].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: { key: keyOf(r) } },
        h('th', { scope: 'row', class: 'given' }, lead(r)),
        extra(r).map((v) => h('td', { class: 'num' }, v)),
        FIGURES.map(([field, , format]) => h('td', { class: 'num', dataset: { field } }, format(r[field]))))))));
}

/** Weekday × hour as a table whose cells are shaded by their share of the busiest hour (CSS classes). */
function heatTable(heat) {
  const max = Math.max(0, ...heat.cells.map((c) => c.calls));
  if (max === 0) return h('p', { class: 'muted' }, 'No calls in this period.');
  const hours = Array.from({ length: 24 }, (_, i) => i);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'heatmap', dataset: { table: 'heatmap' } },
      h('thead', {}, h('tr', {}, h('th', {}, ''), hours.map((hr) => h('th', { scope: 'col' }, String(hr).padStart(2, '0'))))),
      h('tbody', {}, heat.weekdays.map((day, d) => h('tr', {},
        h('th', { scope: 'row' }, day),
        hours.map((hr) => {
          const cell = heat.cells[d * 24 + hr];
          const level = cell.calls === 0 ? 0 : Math.max(1, Math.ceil((5 * cell.calls) / max));
          return h('td', {
            dataset: { weekday: String(d), hour: String(hr), level: String(level) },
            title: `${day} ${String(hr).padStart(2, '0')}:00 – ${cell.calls} calls, ${cell.missed} missed`,
          }, cell.calls ? String(cell.calls) : '');
        }))))));
}
