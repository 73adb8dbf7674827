import { readFileSync } from 'node:fs';

/** A PEM option is the file's path or, starting with `-----BEGIN`, its contents. */
export function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}
