#!/usr/bin/env node
// Compiles src/ to dist/ (what bin/actionurl.js runs) and copies every `static` folder (the dashboard's and
// the phone page's files, served as they are) next to the compiled modules that serve them.
// Usage: node scripts/build.mjs [--clean]   (--clean starts from an empty dist/; otherwise tsc is incremental)
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

if (process.argv.includes('--clean')) rmSync(dist, { recursive: true, force: true });

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // `npm install --omit=dev` runs `prepare` without the compiler: build with dev dependencies, then prune.
  console.error('build: TypeScript is not installed; run `npm install` with dev dependencies (then `npm prune --omit=dev` if wanted)');
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  console.error(`build: tsc failed (exit ${result.status ?? result.signal}); dist/ may be incomplete`);
  process.exit(1);
}

function staticFolders(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'static') out.push(path);
    else staticFolders(path, out);
  }
  return out;
}

for (const folder of staticFolders(src)) {
  const target = join(dist, relative(src, folder));
  rmSync(target, { recursive: true, force: true }); // so a file deleted from src/ does not linger in dist/
  cpSync(folder, target, { recursive: true });
}
