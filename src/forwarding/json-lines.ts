/**
 * JSON.parse that remembers where things are: for each object, the line each of its keys is on, so a
 * configuration file with a mistake is refused with the line of the mistake, not just "invalid". Strict
 * JSON (RFC 8259); errors are one line with the line number.
 */

export class JsonLineError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

export interface LocatedJson {
  value: unknown;
  /** The line a key of an object is on (1-based). */
  lineOf(object: object, key?: string | number): number;
}

export function parseJsonWithLines(text: string): LocatedJson {
  const keyLines = new WeakMap<object, Map<string | number, number>>();
  const startLines = new WeakMap<object, number>();
  let at = 0;
  let line = 1;
  const fail = (reason: string): never => {
    throw new JsonLineError(line, reason);
  };
  const space = () => {
    while (at < text.length) {
      const c = text[at];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
      at++;
    }
  };
  const string = (): string => {
    const start = at;
    at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at] === '\\') at++;
      else if (text[at] === '\n' || text.charCodeAt(at) < 0x20) fail('a control character or line break inside a string');
      at++;
    }
    if (at >= text.length) fail('a string is not closed');
    at++;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      return fail('a bad escape in a string');
    }
  };
  const value = (): unknown => {
    space();
    const c = text[at];
    if (c === '{') {
      const obj: Record<string, unknown> = {};
      const lines = new Map<string | number, number>();
      keyLines.set(obj, lines);
      startLines.set(obj, line);
      at++;
      space();
      if (text[at] === '}') {
        at++;
        return obj;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail(`expected a "key" in an object, found ${show(text[at])}`);
        const keyLine = line;
        const key = string();
        space();
        if (text[at] !== ':') fail(`expected : after "${key}"`);
        at++;
        if (Object.hasOwn(obj, key)) fail(`"${key}" is given twice`);
        Object.defineProperty(obj, key, { value: value(), enumerable: true, writable: true, configurable: true });
        lines.set(key, keyLine);
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return obj;
        }
        fail(`expected , or } in an object, found ${show(text[at])}`);
      }
    }
    if (c === '[') {
      const arr: unknown[] = [];
      const lines = new Map<string | number, number>();
      keyLines.set(arr, lines);
      startLines.set(arr, line);
      at++;
      space();
      if (text[at] === ']') {
        at++;
        return arr;
      }
      for (;;) {
        space();
        lines.set(arr.length, line);
        arr.push(value());
        space();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return arr;
        }
        fail(`expected , or ] in a list, found ${show(text[at])}`);
      }
    }
    if (c === '"') return string();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(at, at + 64));
    if (!m) return fail(`unexpected ${show(c)}`);
    at += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const result = value();
  space();
  if (at < text.length) fail(`unexpected ${show(text[at])} after the end`);
  return {
    value: result,
    lineOf(object, key) {
      if (key !== undefined) {
        const l = keyLines.get(object)?.get(key);
        if (l !== undefined) return l;
      }
      return startLines.get(object) ?? 1;
    },
  };
}

function show(c: string | undefined): string {
  return c === undefined ? 'the end of the file' : JSON.stringify(c);
}
