/**
 * Where another module of this package is, for the few places that load one at run time by URL (a worker
 * thread, an optional part). The package runs either as TypeScript sources (tests and benchmarks, through
 * tsx) or as the JavaScript compiled to dist/ (the `actionurl` command). tsc rewrites `.ts` in import
 * statements, but not in a URL built at run time, so the URL takes the extension of the module asking.
 */

/** True when `moduleUrl` (an `import.meta.url`) is a TypeScript source rather than compiled JavaScript. */
export function isTypeScriptSource(moduleUrl: string): boolean {
  return new URL(moduleUrl).pathname.endsWith('.ts');
}

/** The module at `relative` (no extension, e.g. `'./sqlite-worker'`) next to `moduleUrl`, in the same form. */
export function siblingModule(moduleUrl: string, relative: string): URL {
  return new URL(relative + (isTypeScriptSource(moduleUrl) ? '.ts' : '.js'), moduleUrl);
}
