/**
 * Renders a Home Assistant value template the way HA does, for the part of Jinja the discovery templates use:
 * `{{ … }}` blocks in text, with `value_json.a.b`, `x[0]`, `x[:64]`, `a if c else b`, `and`/`or`/`not`,
 * `==`/`!=`/`in`/`not in`, string, number and list literals, `true`/`false`/`none`. Anything else (a filter,
 * a `{% %}` block) throws, so a template that grows past this subset fails the test instead of being guessed at.
 *
 * Semantics are Python's and Jinja's, not JavaScript's: truthiness (empty list and '' are false), `str()` of
 * the result (`None`, `True`), lengths and slices by code point, a missing key or index is Jinja's Undefined
 * (rendered as '' by HA, with a warning; using it further is an error), and HA strips the rendered text
 * (`Template.async_render_with_possible_json_value` in homeassistant/helpers/template.py).
 */

const UNDEFINED = Symbol('undefined');
type Value = string | number | boolean | null | Value[] | { [k: string]: Value } | typeof UNDEFINED;

export class TemplateError extends Error {}

type Node =
  | { k: 'lit'; v: Value }
  | { k: 'name'; n: string }
  | { k: 'list'; items: Node[] }
  | { k: 'attr'; o: Node; n: string }
  | { k: 'index'; o: Node; i: Node }
  | { k: 'slice'; o: Node; from: Node | null; to: Node | null }
  | { k: 'if'; then: Node; cond: Node; else: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'not'; a: Node };

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[()[\],.:<>]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const m = TOKEN.exec(src);
    if (!m) throw new TemplateError(`unsupported template syntax at "${src.slice(TOKEN.lastIndex)}"`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly t: string[]) {}
  private peek = () => this.t[this.i];
  private eat(expected?: string): string {
    const tok = this.t[this.i++];
    if (tok === undefined || (expected !== undefined && tok !== expected)) throw new TemplateError(`expected ${expected ?? 'more'}, got ${tok ?? 'the end'}`);
    return tok;
  }
  parseAll(): Node {
    const n = this.expr();
    if (this.i !== this.t.length) throw new TemplateError(`unsupported template syntax at "${this.t.slice(this.i).join(' ')}"`);
    return n;
  }
  private expr(): Node {
    const then = this.or();
    if (this.peek() !== 'if') return then;
    this.eat('if');
    const cond = this.or();
    // Jinja's `a if c` without else yields Undefined when c is false.
    if (this.peek() !== 'else') return { k: 'if', then, cond, else: { k: 'lit', v: UNDEFINED } };
    this.eat('else');
    return { k: 'if', then, cond, else: this.expr() };
  }
  private or(): Node {
    let a = this.and();
    while (this.peek() === 'or') a = { k: 'bin', op: this.eat(), a, b: this.and() };
    return a;
  }
  private and(): Node {
    let a = this.not();
    while (this.peek() === 'and') a = { k: 'bin', op: this.eat(), a, b: this.not() };
    return a;
  }
  private not(): Node {
    if (this.peek() === 'not') {
      this.eat();
      return { k: 'not', a: this.not() };
    }
    return this.compare();
  }
  private compare(): Node {
    let a = this.postfix();
    for (;;) {
      const p = this.peek();
      if (p === 'not' && this.t[this.i + 1] === 'in') {
        this.i += 2;
        a = { k: 'bin', op: 'not in', a, b: this.postfix() };
      } else if (p === '==' || p === '!=' || p === 'in' || p === '<' || p === '>' || p === '<=' || p === '>=') {
        a = { k: 'bin', op: this.eat(), a, b: this.postfix() };
      } else return a;
    }
  }
  private postfix(): Node {
    let o = this.atom();
    for (;;) {
      if (this.peek() === '.') {
        this.eat();
        o = { k: 'attr', o, n: this.eat() };
      } else if (this.peek() === '[') {
        this.eat();
        let from: Node | null = null;
        if (this.peek() !== ':') from = this.expr();
        if (this.peek() === ':') {
          this.eat();
          const to = this.peek() === ']' ? null : this.expr();
          this.eat(']');
          o = { k: 'slice', o, from, to };
        } else {
          this.eat(']');
          o = { k: 'index', o, i: from! };
        }
      } else return o;
    }
  }
  private atom(): Node {
    const tok = this.eat();
    if (tok === '(') {
      const n = this.expr();
      this.eat(')');
      return n;
    }
    if (tok === '[') {
      const items: Node[] = [];
      while (this.peek() !== ']') {
        items.push(this.expr());
        if (this.peek() === ',') this.eat();
      }
      this.eat(']');
      return { k: 'list', items };
    }
    if (/^\d/.test(tok)) return { k: 'lit', v: Number(tok) };
    if (tok[0] === "'" || tok[0] === '"') return { k: 'lit', v: tok.slice(1, -1).replace(/\\(.)/g, '$1') };
    const lower = tok.toLowerCase();
    if (lower === 'true' || lower === 'false') return { k: 'lit', v: lower === 'true' };
    if (lower === 'none') return { k: 'lit', v: null };
    if (['if', 'else', 'and', 'or', 'not', 'in'].includes(tok)) throw new TemplateError(`unexpected ${tok}`);
    return { k: 'name', n: tok };
  }
}

const truthy = (v: Value): boolean =>
  v === UNDEFINED ? false : Array.isArray(v) ? v.length > 0 : v !== null && typeof v === 'object' ? Object.keys(v).length > 0 : Boolean(v);

function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  // Python: True == 1, but a dict equals only a dict with the same items; enough here to compare scalars.
  return a === b || (typeof a === 'boolean' && typeof b === 'number' && Number(a) === b) || (typeof b === 'boolean' && typeof a === 'number' && Number(b) === a);
}

/** Attributes a Python dict has: Jinja's `d.items` finds the method before the key. */
const DICT_ATTRS = new Set(['items', 'keys', 'values', 'get', 'pop', 'update', 'copy', 'clear', 'setdefault', 'popitem', 'fromkeys']);

function evaluate(n: Node, vars: Record<string, Value>): Value {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'name':
      return n.n in vars ? vars[n.n] : UNDEFINED;
    case 'list':
      return n.items.map((i) => evaluate(i, vars));
    case 'attr': {
      const o = evaluate(n.o, vars);
      if (o === UNDEFINED) throw new TemplateError(`'${n.n}' of an undefined value`);
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
        if (DICT_ATTRS.has(n.n)) throw new TemplateError(`.${n.n} is the dict's method in Jinja, not the key`);
        return Object.hasOwn(o, n.n) ? o[n.n] : UNDEFINED;
      }
      return UNDEFINED;
    }
    case 'index': {
      const o = evaluate(n.o, vars);
      const i = evaluate(n.i, vars);
      if (o === UNDEFINED) throw new TemplateError('index of an undefined value');
      if (Array.isArray(o) || typeof o === 'string') {
        const items = typeof o === 'string' ? [...o] : o;
        if (typeof i !== 'number' || !Number.isInteger(i)) throw new TemplateError('index is not an integer');
        const at = i < 0 ? items.length + i : i;
        return at >= 0 && at < items.length ? items[at] : UNDEFINED;
      }
      if (o !== null && typeof o === 'object' && typeof i === 'string') return Object.hasOwn(o, i) ? o[i] : UNDEFINED;
      return UNDEFINED;
    }
    case 'slice': {
      const o = evaluate(n.o, vars);
      if (typeof o !== 'string' && !Array.isArray(o)) throw new TemplateError('slice of something that is not a string or list');
      const items = typeof o === 'string' ? [...o] : o;
      const bound = (b: Node | null, dflt: number) => {
        if (b === null) return dflt;
        const v = evaluate(b, vars);
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new TemplateError('slice bound is not an integer');
        return v < 0 ? Math.max(0, items.length + v) : Math.min(v, items.length);
      };
      const part = items.slice(bound(n.from, 0), bound(n.to, items.length));
      return typeof o === 'string' ? part.join('') : (part as Value[]);
    }
    case 'if':
      return truthy(evaluate(n.cond, vars)) ? evaluate(n.then, vars) : evaluate(n.else, vars);
    case 'not':
      return !truthy(evaluate(n.a, vars));
    case 'bin': {
      if (n.op === 'and') {
        const a = evaluate(n.a, vars);
        return truthy(a) ? evaluate(n.b, vars) : a;
      }
      if (n.op === 'or') {
        const a = evaluate(n.a, vars);
        return truthy(a) ? a : evaluate(n.b, vars);
      }
      const a = evaluate(n.a, vars);
      const b = evaluate(n.b, vars);
      if (n.op === '==') return equal(a, b);
      if (n.op === '!=') return !equal(a, b);
      if (n.op === 'in' || n.op === 'not in') {
        let found: boolean;
        if (Array.isArray(b)) found = b.some((x) => equal(a, x));
        else if (typeof b === 'string' && typeof a === 'string') found = b.includes(a);
        else if (b !== null && typeof b === 'object' && typeof a === 'string') found = Object.hasOwn(b, a);
        else throw new TemplateError(`"in" on ${typeof b}`);
        return n.op === 'in' ? found : !found;
      }
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) throw new TemplateError(`${n.op} between ${typeof a} and ${typeof b}`);
      const [x, y] = [a as number | string, b as number | string];
      return n.op === '<' ? x < y : n.op === '>' ? x > y : n.op === '<=' ? x <= y : x >= y;
    }
  }
}

/** Python's str() of a rendered value. */
function str(v: Value): string {
  if (v === UNDEFINED) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  // As Python prints an int, and a float with a fraction. (A JSON 1.0 Python prints as "1.0", JavaScript reads
  // as 1; no template here renders a number.)
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  throw new TemplateError('a list or object rendered as text');
}

export interface Rendered {
  text: string;
  /** Undefined values rendered as '' (HA logs a warning for each). */
  undefinedUsed: boolean;
}

/** Checks that a template is in the supported subset (HA's cv.template refuses what Jinja cannot parse). */
export function parseTemplate(template: string): void {
  render(template, null);
}

/**
 * `template` rendered against an MQTT payload as HA's MQTT value templates are: `value` is the payload, and
 * `value_json` the payload parsed as JSON when it is JSON (otherwise undefined). `payload === null` only parses.
 */
export function render(template: string, payload: string | null): Rendered {
  if (template.includes('{%') || template.includes('{#')) throw new TemplateError('{% %} and {# #} blocks are not in the supported subset');
  const vars: Record<string, Value> = {};
  if (payload !== null) {
    vars.value = payload;
    try {
      vars.value_json = JSON.parse(payload) as Value;
    } catch {
      // not JSON: value_json stays undefined, as in HA
    }
  }
  let text = '';
  let undefinedUsed = false;
  let rest = template;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new TemplateError('unclosed {{');
    text += rest.slice(0, open);
    const node = new Parser(tokenize(rest.slice(open + 2, close))).parseAll();
    if (payload !== null) {
      const v = evaluate(node, vars);
      if (v === UNDEFINED) undefinedUsed = true;
      text += str(v);
    }
    rest = rest.slice(close + 2);
  }
  text += rest;
  // Python's str.strip(): whitespace at both ends.
  return { text: text.replace(/^\s+|\s+$/gu, ''), undefinedUsed };
}

/** Length of a string as Python counts it (code points). */
export const pyLen = (s: string) => [...s].length;
