/**
 * Just enough XML for phone config files (Snom, Grandstream): escaping for writers, and a forgiving parser
 * for readers that keeps line numbers, never throws, and reports what it could not make sense of instead of
 * giving up on the whole file, because hand-edited provisioning files are often slightly broken.
 */
import { type ReadCollector, reportText } from './common.ts';
import type { UnusedLine } from './types.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;' };

/** Text or attribute value safe inside XML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };

/**
 * Entities resolved (named and numeric). A `&` that starts no valid entity is kept as a literal `&`, as
 * forgiving phone parsers do, and reported in `loose` so the user learns the file is not well-formed.
 */
export function unescapeXml(s: string): { value: string; loose: string[] } {
  const loose: string[] = [];
  const value = s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);|&/gi, (whole, body: string | undefined) => {
    if (body === undefined) {
      loose.push('a bare "&" (write it as &amp;)');
      return '&';
    }
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) return String.fromCodePoint(code);
      loose.push(`an invalid character reference "${whole}"`);
      return whole;
    }
    const named = NAMED[body.toLowerCase()];
    if (named !== undefined) return named;
    loose.push(`an unknown entity "${whole}"`);
    return whole;
  });
  return { value, loose };
}

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Direct text content, entities resolved, CDATA included. */
  text: string;
  /** Problems found in the text (bare `&`, unknown entities). */
  textProblems: string[];
  /** 1-based line of the opening tag. */
  line: number;
}

export interface XmlDocument {
  /** The first top-level element; undefined when there is none. */
  root?: XmlElement;
  problems: UnusedLine[];
  /** Source lines, for reports. */
  lines: string[];
}

const NAME = /^[A-Za-z_][\w.:-]*/;

/** Parses `text` forgivingly. Never throws. */
export function parseXml(text: string): XmlDocument {
  const src = text.replace(/^\uFEFF/, '');
  const lines = src.split(/\r\n|\n|\r/);
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\n' || (ch === '\r' && src[i + 1] !== '\n')) lineStarts.push(i + 1);
  }
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const problems: UnusedLine[] = [];
  const problem = (offset: number, reason: string) => {
    const line = lineAt(offset);
    problems.push({ line, text: reportText(lines[line - 1] ?? ''), reason });
  };

  const doc: XmlDocument = { problems, lines };
  const stack: XmlElement[] = [];
  const addText = (raw: string, offset: number, cdata: boolean) => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (raw.trim() !== '') problem(offset, 'text outside the root element');
      return;
    }
    if (cdata) {
      top.text += raw;
      return;
    }
    const { value, loose } = unescapeXml(raw);
    top.text += value;
    top.textProblems.push(...loose);
  };

  let pos = 0;
  while (pos < src.length) {
    const lt = src.indexOf('<', pos);
    if (lt < 0) {
      addText(src.slice(pos), pos, false);
      break;
    }
    if (lt > pos) addText(src.slice(pos, lt), pos, false);
    const closeAt = (marker: string, from: number, what: string): number | undefined => {
      const end = src.indexOf(marker, from);
      if (end < 0) {
        problem(lt, `${what} is never closed`);
        return undefined;
      }
      return end + marker.length;
    };
    let next: number | undefined;
    if (src.startsWith('<!--', lt)) {
      next = closeAt('-->', lt + 4, 'a comment');
    } else if (src.startsWith('<![CDATA[', lt)) {
      next = closeAt(']]>', lt + 9, 'a CDATA section');
      if (next !== undefined) addText(src.slice(lt + 9, next - 3), lt, true);
    } else if (src.startsWith('<?', lt)) {
      next = closeAt('?>', lt + 2, 'an XML declaration');
    } else if (src.startsWith('<!', lt)) {
      next = closeAt('>', lt + 2, 'a declaration');
    } else if (src.startsWith('</', lt)) {
      next = closeAt('>', lt + 2, 'a closing tag');
      if (next !== undefined) closeElement(src.slice(lt + 2, next - 1).trim(), lt);
    } else {
      next = openElement(lt);
    }
    if (next === undefined) break;
    pos = next;
  }
  for (const open of stack.reverse()) {
    problems.push({ line: open.line, text: reportText(lines[open.line - 1] ?? ''), reason: `<${open.name}> is never closed` });
  }
  problems.sort((a, b) => a.line - b.line);
  return doc;

  function closeElement(name: string, offset: number) {
    const at = stack.map((e) => e.name).lastIndexOf(name);
    if (at < 0) {
      problem(offset, `closing tag </${name}> has no opening tag`);
      return;
    }
    while (stack.length - 1 > at) {
      const open = stack.pop()!;
      problems.push({ line: open.line, text: reportText(lines[open.line - 1] ?? ''), reason: `<${open.name}> is not closed before </${name}>` });
    }
    stack.pop();
  }

  /** Parses `<name attr="v" ...>` at `lt`; returns the offset after it, or undefined at an unfinished tag. */
  function openElement(lt: number): number | undefined {
    const name = NAME.exec(src.slice(lt + 1, lt + 200))?.[0];
    if (!name) {
      problem(lt, 'a "<" that starts no tag (write it as &lt;)');
      addText('<', lt, true);
      return lt + 1;
    }
    // Find the tag's end, skipping over quoted attribute values that may contain ">".
    let i = lt + 1 + name.length;
    let quote: string | undefined;
    for (; i < src.length; i++) {
      const ch = src[i];
      if (quote) {
        if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === '\'') quote = ch;
      else if (ch === '>') break;
      else if (ch === '<') {
        problem(lt, `tag <${name}> is not finished with ">"`);
        return i;
      }
    }
    if (i >= src.length) {
      problem(lt, `tag <${name}> is not finished with ">"`);
      return undefined;
    }
    const inner = src.slice(lt + 1 + name.length, i);
    const selfClosing = inner.trimEnd().endsWith('/');
    const attrs: Record<string, string> = {};
    for (const m of inner.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs[m[1]] = unescapeXml(m[2] ?? m[3] ?? '').value;
    }
    const element: XmlElement = { name, attrs, children: [], text: '', textProblems: [], line: lineAt(lt) };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (!doc.root) doc.root = element;
    else problem(lt, `a second top-level element <${name}>; only the first, <${doc.root.name}>, is read`);
    if (!selfClosing) stack.push(element);
    return i + 1;
  }
}

/** Children whose name matches, ignoring case (phone parsers are not strict about it). */
export function childrenNamed(parent: XmlElement, name: string): XmlElement[] {
  const lower = name.toLowerCase();
  return parent.children.filter((c) => c.name.toLowerCase() === lower);
}

/** Records an element's text as the URL of `slug`; markup inside the value makes it unusable. */
export function collectElementUrl(c: ReadCollector, doc: XmlDocument, el: XmlElement, slug: string): void {
  const source = doc.lines[el.line - 1] ?? '';
  if (el.children.length > 0) {
    c.reject(el.line, source, `<${el.name}> holds markup (<${el.children[0].name}>), not a URL`);
    return;
  }
  for (const p of el.textProblems) c.notes.push(`line ${el.line}: <${el.name}> has ${p}; read as written`);
  c.setUrl(slug, el.text, el.line, source);
}

/** XML syntax problems become unused lines of the reader's result. */
export function reportXmlProblems(c: ReadCollector, doc: XmlDocument): void {
  for (const p of doc.problems) c.reject(p.line, p.text, `XML: ${p.reason}`);
}
