// DOM building for the whole app. Every value from phones and callers is hostile, so there is no way here to
// turn a string into markup: text goes in as text nodes, attributes through setAttribute, and the page's
// Trusted Types policy makes any innerHTML assignment throw.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  if (!attrs) return el;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value));
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (typeof child === 'object' && 'nodeType' in child) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

/** h('a', { href: '#/x', class: 'y' }, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** SVG element, same calling convention as h. */
export function s(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Sets text only when it changed (keeps the DOM quiet for observers and screen readers). */
export function setText(el, text) {
  const t = text === undefined || text === null ? '' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

/**
 * Text a phone or a person supplied (a name, a SIP address, a model): it may break anywhere, so one long
 * word never makes its table wider than the page (words the dashboard writes still break only between words).
 */
export function given(text) {
  return h('span', { class: 'given' }, text);
}

/** A <select> with options [[value, label], ...]. */
export function select(attrs, options, current) {
  return h('select', attrs, options.map(([value, label]) => h('option', { value, selected: value === current }, label)));
}
