/**
 * Names the calling thread for the operating system, so that `top -H`, `ps -L` and per-thread CPU readings
 * (/proc/<pid>/task/<tid>/comm) tell the database threads apart from Node's own (Node 20 does not pass a
 * worker's name on to the OS). Linux only, at most 15 characters; elsewhere, or if refused, the thread keeps
 * the name it had.
 */
import { writeFileSync } from 'node:fs';

export function nameThisThread(name: string): void {
  try {
    // A synchronous write runs on the calling thread, which is what /proc/thread-self names.
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // not Linux, or /proc not mounted: a name is a convenience only
  }
}
