// A list that renders only the rows in view, so the board stays fast with tens of thousands of phones.
// Rows have one fixed height (read from CSS, so a phone-sized screen can use taller two-line rows); a pool of
// row elements is moved and refilled as the user scrolls.

export class VirtualList {
  /**
   * @param {HTMLElement} viewport   the scrolling element
   * @param {object} opts
   * @param {() => HTMLElement} opts.createRow
   * @param {(row: HTMLElement, item: any, index: number) => void} opts.fillRow
   * @param {(item: any) => unknown} [opts.versionOf]  rows whose item and version are unchanged are skipped
   */
  constructor(viewport, { createRow, fillRow, versionOf }) {
    this.viewport = viewport;
    this.createRow = createRow;
    this.fillRow = fillRow;
    this.versionOf = versionOf ?? (() => 0);
    this.items = [];
    this.rows = [];
    this.rowHeight = 0;
    this.overscan = 6;
    this.scheduled = false;
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.layer = document.createElement('div');
    this.layer.className = 'vlist-rows';
    this.spacer.appendChild(this.layer);
    viewport.appendChild(this.spacer);
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resizeObserver = new window.ResizeObserver(() => {
      this.rowHeight = 0;
      this.schedule();
    });
    this.resizeObserver.observe(viewport);
  }

  /** New items; `now`: render right away (the caller is already in an animation frame), else on the next one. */
  setItems(items, now = false) {
    this.items = items;
    if (now) this.render();
    else this.schedule();
  }

  /** Re-render on the next frame (many changes in one frame cost one render). */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  /** Refill every visible row, even if unchanged (e.g. the clock moved on). */
  refresh() {
    for (const row of this.rows) row.vlistVersion = undefined;
    this.schedule();
  }

  measure() {
    if (this.rowHeight > 0) return this.rowHeight;
    const probe = this.createRow();
    probe.style.visibility = 'hidden';
    this.layer.appendChild(probe);
    this.rowHeight = Math.max(1, probe.getBoundingClientRect().height);
    probe.remove();
    return this.rowHeight;
  }

  render() {
    const rh = this.measure();
    const n = this.items.length;
    const height = n * rh;
    if (this.spacer.style.height !== `${height}px`) this.spacer.style.height = `${height}px`;
    const top = this.viewport.scrollTop;
    const visible = Math.ceil(this.viewport.clientHeight / rh) + 1;
    const first = Math.max(0, Math.floor(top / rh) - this.overscan);
    const last = Math.min(n, first + visible + 2 * this.overscan);
    const want = last - first;
    while (this.rows.length < want) {
      const row = this.createRow();
      this.layer.appendChild(row);
      this.rows.push(row);
    }
    while (this.rows.length > want) this.rows.pop().remove();
    for (let i = 0; i < want; i++) {
      const index = first + i;
      const item = this.items[index];
      const row = this.rows[i];
      const version = this.versionOf(item);
      if (row.vlistItem !== item || row.vlistVersion !== version || row.vlistIndex !== index) {
        row.vlistItem = item;
        row.vlistVersion = version;
        row.vlistIndex = index;
        row.style.transform = `translateY(${index * rh}px)`;
        row.setAttribute('aria-rowindex', String(index + 2));
        this.fillRow(row, item, index);
      }
    }
  }

  /** Scrolls so that item `index` is in view. */
  scrollToIndex(index) {
    const rh = this.measure();
    const top = index * rh;
    if (top < this.viewport.scrollTop || top + rh > this.viewport.scrollTop + this.viewport.clientHeight) {
      this.viewport.scrollTop = Math.max(0, top - rh);
    }
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.spacer.remove();
    this.rows = [];
  }
}
