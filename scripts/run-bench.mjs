#!/usr/bin/env node
// Runs benchmarks: every bench/*.ts, or the ones given (paths or names: `npm run bench -- ingest`).
// Options for the benchmarks go after the names as --name=value (`npm run bench -- soak --minutes=10`).
// A file `bench/<name>-<part>.ts` next to a `bench/<name>.ts` is a helper of that benchmark, not run on its own.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const benchDir = join(root, 'bench');
const all = readdirSync(benchDir).filter((f) => f.endsWith('.ts')).sort();
const isHelper = (file) => {
  const name = basename(file, '.ts');
  const dash = name.indexOf('-');
  return dash > 0 && all.includes(`${name.slice(0, dash)}.ts`);
};

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = args.length
  ? args.map((a) => {
      const candidates = [resolve(root, a), join(benchDir, a), join(benchDir, `${a}.ts`)];
      const found = candidates.find((c) => existsSync(c) && c.endsWith('.ts'));
      if (!found) {
        console.error(`no benchmark "${a}" (have: ${all.filter((f) => !isHelper(f)).join(', ')})`);
        process.exit(2);
      }
      return found;
    })
  : all.filter((f) => !isHelper(f)).map((f) => join(benchDir, f));

// Benchmarks that start the `actionurl` command run the compiled dist/ through bin/actionurl.js: bring it
// up to date with the sources first.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(1);

let failed = 0;
for (const file of files) {
  console.log(`\n== ${basename(file)} ==`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.error(`${basename(file)} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
