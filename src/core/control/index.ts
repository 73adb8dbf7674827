/** Remote control ("Action URI"): the shared vocabulary, the per-vendor table and the pure functions around it. */
export * from './commands.ts';
export * from './dialects.ts';
export * from './encode.ts';
export * from './decode.ts';
export * from './answers.ts';
export * from './confirm.ts';
export * from './detect.ts';
export * from './allowlist.ts';
export * from './settings.ts';
export * from './digest.ts';
