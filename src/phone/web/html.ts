/**
 * HTML with every interpolated value escaped: display names and URLs come from callers and administrators
 * and are hostile until proven otherwise. Only fragments built by `html` itself pass through unescaped.
 */

const SAFE = Symbol('safe html');

export interface SafeHtml {
  readonly [SAFE]: true;
  readonly text: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isSafe(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && (v as SafeHtml)[SAFE] === true;
}

type Value = string | number | boolean | null | undefined | SafeHtml | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (isSafe(v)) return v.text;
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let text = strings[0];
  values.forEach((v, i) => {
    text += render(v) + strings[i + 1];
  });
  return { [SAFE]: true, text };
}
