/**
 * CPU time per thread of a running process, as the kernel accounts it: /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds on a CPU), or utime + stime from …/stat (clock ticks) where schedstat is missing. Read before
 * and after a run; the difference over the events stored is what each thread spent per event. Not a
 * sampling profile: every nanosecond the thread ran is in it, whatever it was doing.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of …/stat's utime and stime (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** Per thread id: its name (`comm`) and the CPU it used so far, in ns. */
export type ThreadTimes = Map<number, { name: string; ns: number }>;

function cpuNs(task: string): number {
  try {
    return Number(readFileSync(`${task}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    // utime and stime are the 14th and 15th fields; the name before them may hold spaces, so count from ')'.
    const stat = readFileSync(`${task}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e9) / USER_HZ;
  }
}

export function threadTimes(pid: number): ThreadTimes {
  const times: ThreadTimes = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const task = `/proc/${pid}/task/${tid}`;
    try {
      times.set(Number(tid), { name: readFileSync(`${task}/comm`, 'utf8').trim(), ns: cpuNs(task) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return times;
}

/** CPU between two readings, in ns: the main thread, threads named `writer`, and every other thread. */
export interface CpuSplit {
  main: number;
  writer: number;
  other: number;
  total: number;
}

/**
 * A thread started after `before` counts from 0; one that ended before `after` is missing from it, and its
 * last run with it (the receiver's threads live as long as it does).
 */
export function cpuBetween(pid: number, before: ThreadTimes, after: ThreadTimes, writer = 'sqlite-writer'): CpuSplit {
  const split: CpuSplit = { main: 0, writer: 0, other: 0, total: 0 };
  for (const [tid, now] of after) {
    const used = now.ns - (before.get(tid)?.ns ?? 0);
    if (tid === pid) split.main += used;
    else if (now.name === writer) split.writer += used;
    else split.other += used;
    split.total += used;
  }
  return split;
}
