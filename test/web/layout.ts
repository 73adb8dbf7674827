/**
 * A layout check for a page in a real browser: what a person would see as broken, measured from the boxes the
 * browser drew (getClientRects of each text, of each form control, the padding boxes of the elements that
 * clip them). It reports:
 * - text (or a form control) drawn over other text or another control;
 * - text cut by an element that hides its overflow, except a single line cut with an ellipsis;
 * - text in a row of a table that is only reachable by scrolling sideways (the row is wider than its table);
 * - anything drawn outside the row or cell it belongs to (a cell taller than its row, a button wider than
 *   its cell);
 * - a page wider than the window;
 * - text too faint to read on what is behind it (WCAG AA: 4.5:1, 3:1 for large text), in light and dark.
 * Text scrolled out of view in a scrolling list is not drawn, so it is not checked.
 */
import type { Page } from 'playwright-core';

export interface LayoutOptions {
  /** Only look inside this element (default: the whole body). */
  scope?: string;
  /** What counts as a row and as a cell: whatever is inside one must be drawn inside it. */
  rows?: string;
  cells?: string;
  /** Pixels of overlap or overhang taken as rounding, not a fault. */
  tolerance?: number;
}

const DEFAULTS = {
  scope: 'body',
  rows: 'tr, [role="row"], li',
  cells: 'td, th, [role="cell"], [role="columnheader"]',
  tolerance: 2,
};

/** Everything wrong with the layout of the page as it is drawn now; empty when nothing is. */
export async function layoutProblems(page: Page, options: LayoutOptions = {}): Promise<string[]> {
  return runInPage(page, probe, { ...DEFAULTS, ...options });
}

/**
 * Runs `fn(arg)` in the page. The test's TypeScript is compiled with esbuild's keepNames, which wraps nested
 * functions in a `__name(...)` helper that exists only in Node; the page gets a stand-in that does nothing.
 */
export function runInPage<A, R>(page: Page, fn: (arg: A) => R, arg: A): Promise<R> {
  return page.evaluate(`(() => { const __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg)}); })()`) as Promise<R>;
}

interface Box { left: number; top: number; right: number; bottom: number }

// Runs in the browser (see runInPage): no imports, no closures over test code.
function probe(o: Required<LayoutOptions>): string[] {
  const win = globalThis as any;
  const doc = win.document;
  const tol = o.tolerance;
  const problems: string[] = [];
  const seen = new Set<string>();
  const report = (text: string) => {
    if (!seen.has(text)) problems.push(text);
    seen.add(text);
  };

  const name = (el: any): string => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    for (const c of el.classList) s += `.${c}`;
    for (const a of ['data-mac', 'data-destination', 'data-key', 'role']) if (el.hasAttribute?.(a)) s += `[${a}="${el.getAttribute(a)}"]`;
    return s;
  };
  const path = (el: any): string => {
    const parts: string[] = [];
    for (let e = el; e && e !== doc.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(' > ');
  };
  const quote = (s: string) => JSON.stringify(s.trim().replace(/\s+/g, ' ').slice(0, 40));
  const boxOf = (r: any): Box => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
  const empty = (b: Box) => b.right - b.left <= 0 || b.bottom - b.top <= 0;
  const intersect = (a: Box, b: Box): Box => ({
    left: Math.max(a.left, b.left), top: Math.max(a.top, b.top), right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom),
  });
  const overhang = (inner: Box, outer: Box) => Math.max(outer.left - inner.left, inner.right - outer.right, outer.top - inner.top, inner.bottom - outer.bottom);
  const fmt = (b: Box) => `${Math.round(b.left)},${Math.round(b.top)} ${Math.round(b.right - b.left)}×${Math.round(b.bottom - b.top)}`;

  // --- readable: the text's colour against the colours behind it, blended as the browser draws them -------
  const rgba = (css: string): number[] => {
    const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(css);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : [0, 0, 0, 0];
  };
  const over = (top: number[], below: number[]): number[] => {
    const a = top[3] + below[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / a).concat(a);
  };
  const luminance = (c: number[]) => {
    const lin = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  };
  const backdropCache = new Map<any, number[] | null>();
  /** The colour behind `el`'s text; null where it cannot be told (an image, a translucent element). */
  const backdrop = (el: any): number[] | null => {
    if (backdropCache.has(el)) return backdropCache.get(el)!;
    let result: number[] | null;
    if (!el) result = rgba(win.getComputedStyle(doc.documentElement).backgroundColor)[3] ? null : [255, 255, 255, 1];
    else {
      const cs = win.getComputedStyle(el);
      if (cs.backgroundImage !== 'none' || Number(cs.opacity) < 1) result = null;
      else {
        const own = rgba(cs.backgroundColor);
        const below = own[3] >= 1 ? null : backdrop(el.parentElement);
        result = own[3] >= 1 ? own : below && over(own, below);
      }
    }
    backdropCache.set(el, result);
    return result;
  };
  const readable = (el: any, text: string) => {
    const cs = win.getComputedStyle(el);
    const behind = backdrop(el);
    if (!behind) return;
    const fg = over(rgba(cs.color), behind);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    const [a, b] = [luminance(fg), luminance(behind)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < (large ? 3 : 4.5)) report(`text ${quote(text)} in ${path(el)} is hard to read: ${cs.color} on rgb(${behind.slice(0, 3).map(Math.round).join(', ')}), ${ratio.toFixed(2)}:1`);
  };

  // Elements a reader cannot see: not rendered, invisible, or squeezed into a pixel (screen-reader text).
  const hiddenCache = new Map<any, boolean>();
  const hidden = (el: any): boolean => {
    if (!el || el === doc.documentElement) return false;
    if (hiddenCache.has(el)) return hiddenCache.get(el)!;
    const cs = win.getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const own = cs.display === 'none' || cs.visibility === 'hidden' || cs.opacity === '0' || cs.clipPath !== 'none'
      || (cs.overflow !== 'visible' && (r.width <= 1 || r.height <= 1));
    const result = own || hidden(el.parentElement);
    hiddenCache.set(el, result);
    return result;
  };

  // The padding box an element clips its content to, per axis (null when it lets that axis overflow).
  const clipCache = new Map<any, { box: Box; x: string; y: string; ellipsis: boolean } | null>();
  const clipOf = (el: any) => {
    if (clipCache.has(el)) return clipCache.get(el)!;
    const cs = win.getComputedStyle(el);
    let result = null;
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') {
      const r = el.getBoundingClientRect();
      const left = r.left + el.clientLeft;
      const top = r.top + el.clientTop;
      const box = { left, top, right: left + (el === doc.documentElement ? win.innerWidth : el.clientWidth), bottom: top + (el === doc.documentElement ? win.innerHeight : el.clientHeight) };
      result = { box, x: cs.overflowX, y: cs.overflowY, ellipsis: cs.textOverflow === 'ellipsis' && cs.whiteSpace !== 'normal' && cs.whiteSpace !== 'pre-wrap' };
    }
    clipCache.set(el, result);
    return result;
  };

  /** What is drawn of `b` (a box inside `el`), and the faults of how it was cut, up to `stop` (exclusive). */
  const drawn = (b: Box, el: any, stop: any = null) => {
    let box = b;
    const cuts: string[] = [];
    let sideways = '';
    for (let e = el; e && e !== stop; e = e.parentElement) {
      const c = clipOf(e);
      if (!c) continue;
      const scrollX = c.x === 'auto' || c.x === 'scroll';
      const scrollY = c.y === 'auto' || c.y === 'scroll';
      const cutX = Math.max(c.box.left - box.left, box.right - c.box.right) > tol;
      const cutY = Math.max(c.box.top - box.top, box.bottom - c.box.bottom) > tol;
      if (cutX && !scrollX && !(c.ellipsis && !cutY)) cuts.push(`cut sideways by ${name(e)}`);
      if (cutY && !scrollY) cuts.push(`cut top or bottom by ${name(e)}`);
      if (cutX && scrollX && e !== doc.documentElement && !sideways) sideways = name(e);
      box = intersect(box, { left: c.x === 'visible' ? -Infinity : c.box.left, right: c.x === 'visible' ? Infinity : c.box.right, top: c.y === 'visible' ? -Infinity : c.box.top, bottom: c.y === 'visible' ? Infinity : c.box.bottom });
      if (empty(box)) return { box, cuts: [], sideways: '' }; // scrolled out of view: not drawn at all
    }
    return { box, cuts, sideways };
  };

  const root = doc.querySelector(o.scope);
  if (!root) return [`no element matches ${o.scope}`];
  if (doc.documentElement.scrollWidth > win.innerWidth + tol) {
    report(`the page is ${doc.documentElement.scrollWidth} px wide in a ${win.innerWidth} px window`);
  }

  // --- the boxes: every line of text, every form control ---------------------------------------------------
  interface Item { box: Box; raw: Box; el: any; label: string; control: boolean; node: any }
  const items: Item[] = [];
  const walker = doc.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
  const range = doc.createRange();
  const SKIP = /^(SCRIPT|STYLE|TEMPLATE|OPTION|OPTGROUP|SELECT|TEXTAREA|NOSCRIPT)$/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.data.trim() || SKIP.test(el.tagName) || el.closest('svg') || hidden(el)) continue;
    // Word by word: a space at the end of a wrapped line hangs past the edge but is not drawn.
    const rects: any[] = [];
    for (const word of node.data.matchAll(/\S+/g)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      rects.push(...range.getClientRects());
    }
    for (const r of rects) {
      if (r.width < 1 || r.height < 1) continue;
      const d = drawn(boxOf(r), el);
      if (empty(d.box)) continue;
      for (const cut of d.cuts) report(`text ${quote(node.data)} in ${path(el)} is ${cut}`);
      if (d.sideways && el.closest(o.rows)) report(`text ${quote(node.data)} in ${path(el)} needs scrolling sideways in ${d.sideways}`);
      items.push({ box: d.box, raw: boxOf(r), el, label: `text ${quote(node.data)} in ${path(el)}`, control: false, node });
      if (!el.closest('button:disabled, input:disabled')) readable(el, node.data);
    }
  }
  for (const el of root.querySelectorAll('input:not([type="hidden"]), select, textarea, button, img')) {
    if (hidden(el)) continue;
    const d = drawn(boxOf(el.getBoundingClientRect()), el.parentElement);
    if (empty(d.box)) continue;
    for (const cut of d.cuts) report(`${path(el)} is ${cut}`);
    items.push({ box: d.box, raw: boxOf(el.getBoundingClientRect()), el, label: path(el), control: true, node: el });
  }

  // --- nothing drawn over anything else (a sweep along x keeps this fast on long pages) --------------------
  items.sort((a, b) => a.box.left - b.box.left);
  const active: Item[] = [];
  for (const a of items) {
    for (let i = active.length - 1; i >= 0; i--) if (active[i].box.right <= a.box.left + tol) active.splice(i, 1);
    for (const b of active) {
      if (a.node === b.node) continue;
      // Text inside a control (a button's label) sits on that control by design.
      if (a.control && a.el.contains(b.el)) continue;
      if (b.control && b.el.contains(a.el)) continue;
      const i = intersect(a.box, b.box);
      if (i.right - i.left > tol && i.bottom - i.top > tol) report(`${b.label} (${fmt(b.box)}) and ${a.label} (${fmt(a.box)}) are drawn over each other`);
    }
    active.push(a);
  }

  // --- what is in a row or a cell is drawn inside it -------------------------------------------------------
  // Boxes of blocks and controls, and each line of text (an inline element's box is only the sum of its lines).
  const texts = items.filter((i) => !i.control);
  for (const container of root.querySelectorAll(`${o.rows}, ${o.cells}`)) {
    if (hidden(container)) continue;
    const outer = boxOf(container.getBoundingClientRect());
    if (empty(drawn(outer, container.parentElement).box)) continue;
    const inside = (b: Box, el: any, label: string) => {
      // Clipped by the container itself counts as inside it (cut text is the text check's business).
      const d = drawn(b, el, container.parentElement);
      if (!empty(d.box) && overhang(d.box, outer) > tol) report(`${label} (${fmt(d.box)}) is drawn outside its ${name(container)} (${fmt(outer)})`);
    };
    for (const el of container.querySelectorAll('*')) {
      if (hidden(el) || (el.closest('svg') !== null && el.tagName.toLowerCase() !== 'svg')) continue;
      if (win.getComputedStyle(el).display === 'inline') continue;
      const r = el.getBoundingClientRect();
      if (r.width < 1 && r.height < 1) continue;
      inside(boxOf(r), el.parentElement, path(el));
    }
    for (const t of texts) if (container.contains(t.el)) inside(t.raw, t.el, t.label);
  }
  return problems;
}
