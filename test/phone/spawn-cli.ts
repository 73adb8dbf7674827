/**
 * Runs the real `actionurl` bin without blocking this process, so a receiver in the test can answer the
 * requests the child sends (spawnSync would freeze it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/actionurl.js', import.meta.url));

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], input?: string): { child: ChildProcess; done: Promise<Finished>; stderrLine(re: RegExp): Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of [...watchers]) {
      const m = w.re.exec(stderr);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stdin!.end(input ?? '');
  const done = new Promise<Finished>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return {
    child,
    done,
    stderrLine: (re) => new Promise((resolve, reject) => {
      const m = re.exec(stderr);
      if (m) return resolve(m);
      watchers.push({ re, resolve });
      void done.then((f) => reject(new Error(`exited (${f.status}) before printing ${re}: ${f.stderr}`)));
    }),
  };
}

export function runCliAsync(args: string[], input?: string): Promise<Finished> {
  return startCli(args, input).done;
}
