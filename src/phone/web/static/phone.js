/* global document, window */
// The phone's pages work without this script. It only keeps the panel current and lints Action URLs while
// they are typed. Everything it puts on the page is either server-rendered (escaped there) or set as text.
(function () {
  'use strict';
  const page = document.body.dataset.page;

  if (page === 'panel') {
    const live = document.getElementById('live');
    let busy = false;
    window.setInterval(async () => {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const r = await fetch('/panel/live');
        // The fragment comes from the same renderer as the page, with every value escaped.
        if (r.ok) live.innerHTML = await r.text();
      } catch {
        // The phone may be restarting; try again on the next tick.
      } finally {
        busy = false;
      }
    }, 1000);
  }

  if (page === 'actionurl') {
    const timers = new Map();
    for (const input of document.querySelectorAll('tr[data-slug] input')) {
      input.addEventListener('input', () => {
        const row = input.closest('tr');
        window.clearTimeout(timers.get(row));
        timers.set(row, window.setTimeout(() => lintRow(row, input.value), 250));
      });
    }
  }

  async function lintRow(row, url) {
    const r = await fetch('/api/lint', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ slug: row.dataset.slug, url }),
    });
    if (!r.ok) return;
    const result = await r.json();
    const items = [...result.errors, ...result.warnings].map((p) => {
      const li = document.createElement('li');
      li.className = p.severity;
      li.textContent = `${p.severity}: ${p.message}`;
      return li;
    });
    row.querySelector('ul.lint').replaceChildren(...items);
    row.classList.toggle('has-error', result.errors.length > 0);
  }
})();
