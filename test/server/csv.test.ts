/** CSV writing (quoting, the formula guard) and reading (quotes, line breaks in fields, bad files). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { csvCell, csvLine, CsvError, parseCsv } from '../../src/server/csv.ts';

describe('CSV', { timeout: 20_000 }, () => {
  it('quotes what needs quoting and guards what a spreadsheet would run', () => {
    assert.equal(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', 3, null]), 'a,"b,c","say ""hi""","two\nlines",3,\r\n');
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1']) assert.equal(csvCell(formula).replace(/^"/, '')[0], "'", formula);
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('1-2'), '1-2');
    assert.deepEqual(parseCsv(csvLine(["'=x", "''+y", "'plain"]))[0].cells, ["'=x", "''+y", "'plain"]);
  });

  it('reads back exactly what it wrote, whatever the text', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.oneof(fc.string(), fc.stringMatching(/^'{0,2}[=+\-@'"\r\n,a]{0,4}$/)), { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
      const text = rows.map((r) => csvLine(r)).join('');
      const back = parseCsv(text).map((r) => r.cells);
      // A line that is one empty field is blank: the reader skips it.
      assert.deepEqual(back, rows.filter((r) => !(r.length === 1 && r[0].trim() === '')));
    }), { numRuns: 300 });
  });

  it('reads LF and CRLF files with a byte order mark, numbers lines, refuses broken quoting', () => {
    const records = parseCsv('\uFEFFmac,name\n\n"a\nb",x\r\nc,d');
    assert.deepEqual(records, [{ line: 1, cells: ['mac', 'name'] }, { line: 3, cells: ['a\nb', 'x'] }, { line: 5, cells: ['c', 'd'] }]);
    assert.throws(() => parseCsv('a,"open\n'), (e: Error) => e instanceof CsvError && e.message === 'line 1: a quoted field is not closed');
    assert.throws(() => parseCsv('x\n"a"b,c'), /line 2: text after a closing quote/);
  });
});
