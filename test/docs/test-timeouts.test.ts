/**
 * A hanging test must fail the run, not hang it: every top-level test and suite in test/ passes
 * `{ timeout }` (nested ones run under their suite's). Node 20 applies the runner's `--test-timeout` to a
 * whole file, so this is what names the test that hung.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const TEST_DIR = resolve(import.meta.dirname, '..');
const TEST_CALL = /^(test|it|describe|suite|describeEachStore)(\.(skip|only|todo))?$/;

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) testFiles(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** `file:line` of each outermost test/describe call that passes no `{ timeout }`. */
function untimed(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && TEST_CALL.test(node.expression.getText(source))) {
      const timed = node.arguments.some((a) => ts.isObjectLiteralExpression(a) && a.properties.some(
        (p) => p.name !== undefined && p.name.getText(source) === 'timeout'));
      if (!timed) found.push(`${file.slice(TEST_DIR.length + 1)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
      return; // tests inside run under this one's timeout
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test('every top-level test and suite has a timeout', { timeout: 60_000 }, () => {
  const files = testFiles(TEST_DIR);
  assert.ok(files.length > 40, `found only ${files.length} test files`);
  assert.deepEqual(files.flatMap(untimed), []);
});
