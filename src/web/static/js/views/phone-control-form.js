// The phone page's remote-control settings: the approved address commands go to (and nowhere else), the
// vendor, and the phone's web admin credentials. Credentials go in and never come back: the receiver never
// returns them, so the fields always start empty and the page says only whether some are set. When the
// phone reports another address than the approved one (it moved, or an event claims so), the page says so
// and offers to confirm that address; nothing is sent to the phone until the admin does.
import { getJson, sendJson } from '../api.js';
import { h, replace } from '../dom.js';

const VENDORS = ['yealink', 'snom', 'fanvil', 'grandstream', 'akuvox'];
const CREDENTIALS = {
  set: 'this phone\'s own',
  default: 'the fleet default (serve --phone-user)',
  none: 'none',
  unreadable: 'stored, but this receiver\'s control key cannot open them: set them again',
};

export function controlSettingsForm(mac) {
  let destroyed = false;
  let filled = false;
  const path = `/api/v1/phones/${encodeURIComponent(mac)}/control`;
  const url = h('input', { type: 'url', id: 'ctl-url', placeholder: 'http://10.0.0.42', autocomplete: 'off', maxlength: '300' });
  const vendor = h('select', { id: 'ctl-vendor' },
    h('option', { value: '' }, 'from its model'),
    VENDORS.map((v) => h('option', { value: v }, v)));
  const username = h('input', { type: 'text', id: 'ctl-user', autocomplete: 'off', maxlength: '128', placeholder: 'unchanged' });
  const password = h('input', { type: 'password', id: 'ctl-password', autocomplete: 'new-password', maxlength: '256', placeholder: 'unchanged' });
  const credentials = h('p', { id: 'ctl-credentials', class: 'muted' });
  const effective = h('p', { id: 'ctl-effective', role: 'status' });
  const moved = h('div', { id: 'ctl-moved', class: 'notice', hidden: true });
  const status = h('p', { id: 'ctl-status', class: 'muted', role: 'status' });
  const clearBtn = h('button', { type: 'button', id: 'ctl-clear-credentials', onclick: () => save({ username: null }) }, 'Remove its credentials');
  const el = h('div', { class: 'control-settings' },
    h('h3', {}, 'Where commands go'),
    moved,
    effective,
    h('form', { class: 'inventory-form', id: 'ctl-form', onsubmit: (e) => { e.preventDefault(); save(formBody()); } },
      h('label', {}, h('span', {}, 'Control address (approved: commands go only here)'), url),
      h('label', {}, h('span', {}, 'Vendor'), vendor),
      h('label', {}, h('span', {}, 'Web admin user'), username),
      h('label', {}, h('span', {}, 'Web admin password'), password),
      credentials,
      h('p', {}, h('button', { type: 'submit', id: 'ctl-save' }, 'Save'), ' ', clearBtn)),
    status);

  function formBody() {
    const body = { url: url.value.trim() || null, vendor: vendor.value || null };
    // Credentials change only when typed; empty fields keep the stored ones.
    if (username.value !== '' || password.value !== '') {
      body.username = username.value;
      body.password = password.value;
    }
    return body;
  }

  function render(view, refill) {
    if (refill || !filled) {
      filled = true;
      url.value = view.url ?? '';
      vendor.value = view.vendor ?? '';
      // What was typed has been sent; the stored credentials are never shown.
      username.value = '';
      password.value = '';
    }
    credentials.textContent = `Credentials: ${CREDENTIALS[view.credentials] ?? String(view.credentials)}.`;
    clearBtn.hidden = view.credentials !== 'set';
    const problem = view.effective?.problem;
    effective.textContent = problem
      ? problem
      : `Commands go to ${view.effective?.url} (${view.effective?.vendor}).`;
    effective.className = problem ? 'error' : 'ok';
    // An address to confirm: where the phone moved to, or the one it reports when none is approved yet.
    const reported = view.reported ? [view.reported.ip, view.reported.source].find((a) => a && /^[0-9a-fA-F:.]+$/.test(a)) : undefined;
    const candidate = view.moved ? view.moved.to : (!view.url ? reported : undefined);
    if (!candidate) {
      moved.hidden = true;
      replace(moved);
      return;
    }
    moved.hidden = false;
    replace(moved,
      h('p', {}, view.moved
        ? `Moved: confirm new address ${candidate}. Its events report ${candidate}; the approved address is ${view.moved.from}. Until you confirm, no command (and no password) is sent.`
        : `Its events report ${candidate}. Approve it as the control address?`),
      h('p', {}, h('button', { type: 'button', id: 'ctl-confirm', dataset: { address: candidate }, onclick: () => confirm(candidate) },
        view.moved ? `Confirm ${candidate}` : `Approve ${candidate}`)));
  }

  async function load(refill = false) {
    try {
      const view = await getJson(path);
      if (!destroyed) render(view, refill);
    } catch (err) {
      if (!destroyed) effective.textContent = `Could not load the control settings: ${err.message}`;
    }
  }

  async function save(body) {
    status.textContent = 'Saving…';
    try {
      const view = await sendJson('PUT', path, body);
      if (destroyed) return;
      status.textContent = 'Saved.';
      render(view, true);
    } catch (err) {
      if (!destroyed) status.textContent = `Not saved: ${err.message}`;
    }
  }

  async function confirm(address) {
    status.textContent = 'Confirming…';
    try {
      const view = await sendJson('POST', `${path}/confirm`, { address });
      if (destroyed) return;
      status.textContent = `Approved ${address}.`;
      render(view, true);
    } catch (err) {
      if (!destroyed) status.textContent = `Not confirmed: ${err.message}`;
    }
  }

  load();
  return {
    el,
    /** Reads the settings again (the phone's events may have made it look moved); keeps what is being typed. */
    refresh: () => load(false),
    stop() {
      destroyed = true;
    },
  };
}
