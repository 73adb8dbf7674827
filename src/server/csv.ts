/**
 * CSV as exports write it and the inventory import reads it (RFC 4180: comma-separated, fields with a comma,
 * quote or line break in double quotes, quotes doubled, CRLF line ends).
 *
 * Exported values come from phones and callers and are hostile: a spreadsheet runs a cell that starts with
 * `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula. Such a cell gets a leading `'`,
 * which spreadsheets show as text; reading a CSV back (`parseCsv`) removes that guard again, so an exported
 * inventory imports unchanged. (A value that already starts with `'` before such a character gets one more,
 * so that it, too, reads back as it was.)
 */

const FORMULA_START = /^'*[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field, guarded against formulas and quoted when needed. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/** One record, with its CRLF. */
export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** A parsed record and the line it starts on (1-based), for messages. */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/** A CSV the parser cannot read; the message is one line with the line number. */
export class CsvError extends Error {}

/** The formula guard `csvCell` adds, removed. */
function unguard(cell: string): string {
  return cell[0] === "'" && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

/** Reads CSV text (a UTF-8 byte order mark, LF or CRLF line ends); blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new CsvError(`line ${start}: a quoted field is not closed`);
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new CsvError(`line ${line}: text after a closing quote (a quote inside a field must be doubled)`);
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      }
      cells.push(unguard(cell));
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    if (!(cells.length === 1 && cells[0].trim() === '')) records.push({ line: start, cells });
  }
  return records;
}
