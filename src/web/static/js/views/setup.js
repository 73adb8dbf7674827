// Set-up: what to put into phones. The Action URL for each incident (with copy buttons), ready-made config
// files per vendor, and a "test it" button that sends an event through the real ingest path and waits for
// it to come back on the live stream.
import { getJson } from '../api.js';
import { h, replace } from '../dom.js';
import { formatMac, normalizeMac } from '../format.js';
import { onEvent } from '../stream.js';

export function mount(root) {
  let destroyed = false;
  let offTest = null;
  const box = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('div', { class: 'page setup-page' }, h('h1', {}, 'Set-up'), box));

  getJson('/ui/setup.json').then((info) => {
    if (!destroyed) render(info);
  }, (err) => {
    if (!destroyed) replace(box, h('p', { class: 'error' }, `Could not load the set-up: ${err.message}`));
  });

  function render(info) {
    const macInput = h('input', { id: 'setup-mac', placeholder: '00:15:65:aa:bb:cc (optional)', autocomplete: 'off', inputmode: 'text' });
    const downloads = h('ul', { class: 'downloads' });
    const macError = h('p', { class: 'error', role: 'alert', hidden: true });
    function renderDownloads() {
      const typed = macInput.value.trim();
      const mac = typed ? normalizeMac(typed) : '';
      macError.hidden = !typed || Boolean(mac);
      macError.textContent = typed && !mac ? `"${typed}" is not a MAC address.` : '';
      replace(downloads, info.vendors.map((v) => {
        const links = v.formats.map((format, i) => {
          const q = new URLSearchParams();
          if (mac) q.set('mac', mac);
          if (i > 0) q.set('format', format);
          const canName = Boolean(mac) || v.common_file;
          return h('a', {
            class: 'button', href: `/ui/config/${v.id}${q.size ? `?${q}` : ''}`, download: '',
            dataset: { vendor: v.id, format },
          }, `${v.label}${v.formats.length > 1 ? ` (${format})` : ''}${canName ? '' : ' (no common file: give a MAC)'}`);
        });
        const file = mac ? null : v.common_file;
        return h('li', {}, links,
          h('span', { class: 'muted' },
            ` ${v.supported} of ${v.total} incidents`,
            v.has_master_switch ? ', with the Action URL on/off switch' : '',
            file ? `; file for every phone: ${file}` : ''));
      }));
    }
    macInput.addEventListener('input', renderDownloads);
    renderDownloads();

    const templateRows = info.incidents.map((i) =>
      h('tr', { dataset: { slug: i.slug } },
        h('th', { scope: 'row' }, h('span', {}, i.name), h('br', {}), h('code', { class: 'slug' }, i.slug)),
        h('td', {}, h('input', { class: 'template', readonly: true, value: i.template, 'aria-label': `Action URL for ${i.name}` })),
        h('td', {}, copyButton(() => i.template, `Copy the URL for ${i.name}`))));

    replace(box,
      h('section', { class: 'card wide', 'aria-labelledby': 'su-server' },
        h('h2', { id: 'su-server' }, 'Receiver'),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Phones send to'), h('dd', {}, h('code', {}, info.server)),
          h('dt', {}, 'Ingest token'), h('dd', {}, tokenText(info))),
        info.server_source === 'request'
          ? h('p', { class: 'notice' }, 'This address is the one your browser used. If phones reach the receiver at another address, start it with its public URL, or replace the address in the URLs below.')
          : null),
      testSection(info),
      h('section', { class: 'card wide', 'aria-labelledby': 'su-files' },
        h('h2', { id: 'su-files' }, 'Config files'),
        h('p', {}, 'A file that turns Action URL on and points every incident at this receiver. Give a MAC to get the file named for that phone.'),
        h('label', { class: 'inline' }, h('span', {}, 'MAC'), macInput),
        macError,
        downloads),
      h('section', { class: 'card wide', 'aria-labelledby': 'su-urls' },
        h('h2', { id: 'su-urls' }, 'Action URL per incident'),
        h('p', {}, 'Paste these into the phone\'s web page (Phone → Action URL), one per incident. The phone fills in the $variables itself.'),
        h('p', {}, copyButton(() => info.incidents.map((i) => `${i.slug}\t${i.template}`).join('\n'), 'Copy all URLs, one per line', 'Copy all')),
        h('div', { class: 'table-wrap' },
          h('table', { class: 'templates' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Incident'), h('th', { scope: 'col' }, 'URL'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Copy')))),
            h('tbody', {}, templateRows)))));
  }

  function testSection(info) {
    const macInput = h('input', { id: 'test-mac', value: formatMac(info.test_mac), autocomplete: 'off' });
    const result = h('div', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
    const button = h('button', { type: 'button', id: 'test-send' }, 'Send a test event');
    button.addEventListener('click', async () => {
      const mac = normalizeMac(macInput.value);
      if (!mac) {
        replace(result, h('p', { class: 'error' }, 'Enter a MAC address.'));
        return;
      }
      button.disabled = true;
      if (offTest) offTest();
      const sentAt = performance.now();
      let arrived = false;
      let acknowledged = null;
      const show = () => {
        replace(result,
          acknowledged ? h('p', { class: acknowledged.ok ? 'ok' : 'error' },
            `Ingest answered ${acknowledged.status}${acknowledged.text ? `: ${acknowledged.text}` : ''}.`) : h('p', {}, 'Sending…'),
          arrived ? h('p', { class: 'ok', id: 'test-arrived' }, `The event arrived on the live stream after ${arrived} ms. It is on the board as ${formatMac(mac)}.`)
            : acknowledged && acknowledged.ok ? h('p', { class: 'muted' }, 'Waiting for it on the live stream…') : null);
      };
      offTest = onEvent((event) => {
        if (!event || String(event.mac) !== mac || event.incident !== 'setup_completed') return;
        arrived = Math.max(1, Math.round(performance.now() - sentAt));
        offTest();
        offTest = null;
        show();
      });
      show();
      // The same request a phone sends after booting, through the same ingest path.
      const q = new URLSearchParams({ mac, model: 'actionurl-test', firmware: 'dashboard' });
      try {
        // With per-phone tokens each MAC has its own; ask the dashboard for this one's.
        const token = info.per_phone_tokens ? (await getJson('/ui/token.json', { mac })).token : info.token;
        if (token) q.set('token', token);
        const res = await fetch(`/actionurl/setup_completed?${q}`, { credentials: 'omit', cache: 'no-store' });
        acknowledged = { ok: res.ok, status: res.status, text: (await res.text()).trim().slice(0, 200) };
      } catch (err) {
        acknowledged = { ok: false, status: 'no answer', text: err.message };
      }
      button.disabled = false;
      if (!destroyed) show();
    });
    return h('section', { class: 'card wide', 'aria-labelledby': 'su-test' },
      h('h2', { id: 'su-test' }, 'Test it'),
      h('p', {}, 'Sends a "Setup Completed" event the way a phone does, then watches for it on the live stream. The default MAC is reserved for documentation, so it cannot clash with a real phone.'),
      h('div', { class: 'inline' }, h('label', { for: 'test-mac' }, 'MAC'), macInput, button),
      result);
  }

  return {
    unmount() {
      destroyed = true;
      if (offTest) offTest();
    },
  };
}

/** A real button that copies text; falls back to selecting it where the Clipboard API is unavailable (plain http). */
function copyButton(getText, label, visible = 'Copy') {
  const button = h('button', { type: 'button', class: 'copy', 'aria-label': label, title: label }, visible);
  button.addEventListener('click', async () => {
    const text = getText();
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) {
      const area = h('textarea', { class: 'offscreen', readonly: true });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
    }
    button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
    setTimeout(() => { button.textContent = visible; }, 1500);
  });
  return button;
}

/** What the Set-up page says about the ingest token. */
function tokenText(info) {
  const parts = [];
  if (info.token) parts.push(h('code', {}, info.token));
  if (info.per_phone_tokens) {
    parts.push(h('span', {}, `${info.token ? ' or ' : ''}each phone's own token, which its config file below carries (give its MAC)`));
  }
  return parts.length ? h('span', {}, ...parts) : h('span', { class: 'muted' }, 'none (anyone on the network can send events)');
}
