/**
 * How many sockets the server may hold before it runs out of file descriptors. Past the process's limit a
 * new connection cannot be accepted at all: Node accepts and closes waiting clients without a word, so a
 * flood of idle sockets would lock everyone out (probes, phones) until it timed out. Knowing the limit, the
 * server makes room itself before it is reached (see server.ts).
 */
import { readFileSync } from 'node:fs';

/** The soft limit on open files (Linux: /proc/self/limits), or undefined when it cannot be read or is unlimited. */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/**
 * Sockets allowed for a file limit: the rest stays for the database, its journal, logs and the connections
 * the receiver makes itself (webhooks, MQTT, phones under remote control): an eighth, at least 48, at most 1024.
 */
export function socketBudget(fileLimit: number): number {
  const reserve = Math.min(1024, Math.max(48, Math.floor(fileLimit / 8)));
  return Math.max(16, fileLimit - reserve);
}
