#!/usr/bin/env node
// Node 20's test runner does not expand globs, so this finds the test files and hands them over.
// Usage: npm test [-- path ...]   (paths are files or folders under test/; default: all of test/)
//
// Timeouts: a regression must fail the run, never hang it. Every top-level test and suite in test/ carries
// `{ timeout }` (60 s for a test, 120 s for a suite, 180 s for browser, command-line and kill-under-load tests;
// test/docs/test-timeouts.test.ts checks that none is missing), and this runner adds
// `--test-timeout` as a backstop. Node 20 applies `--test-timeout` to each test *file* (the file's process
// is one test of the run), so the backstop is sized for the slowest file; pass `--test-timeout=MS` to
// change it.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const targets = args.filter((a) => !a.startsWith('--'));

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (/\.test\.(ts|mjs|js)$/.test(path)) out.push(path);
    return out;
  }
  for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  return out;
}

const files = (targets.length ? targets : ['test']).flatMap((t) => collect(resolve(root, t), []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Tests import the TypeScript sources through tsx, but the ones that spawn the `actionurl` command run
// bin/actionurl.js, which runs the compiled dist/. Building first (incremental: little work when little
// changed) makes those tests check what users run (compiled imports, the writer thread without tsx, the
// copied static files) and never a dist/ left over from older sources.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(1);

const FILE_TIMEOUT_MS = 10 * 60_000;
const timeout = flags.some((f) => f.startsWith('--test-timeout')) ? [] : [`--test-timeout=${FILE_TIMEOUT_MS}`];
const reporter = process.env.CI ? ['--test-reporter=spec'] : [];
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', ...timeout, ...reporter, ...flags, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
