/**
 * This package's version, read from its package.json: the one place it is written. The file is two folders
 * up from this module both as a TypeScript source (src/core/) and compiled (dist/core/), and npm always
 * installs package.json with the package, so `actionurl --version` works from a checkout and from an install.
 */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The `version` field of package.json (read once, on first use). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
