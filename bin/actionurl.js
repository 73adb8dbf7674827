#!/usr/bin/env node
// Runs the JavaScript compiled from src/ to dist/ (`npm install` builds it through the `prepare` script;
// after changing src/, `npm run build`). Compiled code starts several times faster than compiling the
// TypeScript sources at every start.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('actionurl: dist/ is missing; run `npm run build` (or `npm install`) in the package folder first');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
