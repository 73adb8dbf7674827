/**
 * A SQLite connection in a worker thread, as the main thread sees it: start the thread, send it numbered
 * requests, match the answers. Both the writer (`sqlite-worker.ts`) and the readers (`sqlite-reader-worker.ts`)
 * answer `{ n, ok: true, value }` or `{ n, ok: false, error, code? }` for each `{ n, … }` they get, and post
 * one message once their connection is open.
 */
import { Worker } from 'node:worker_threads';
import { isTypeScriptSource } from '../core/module-url.ts';

/** A worker thread running `url`; from the TypeScript sources it needs tsx registered in it first. */
function startThread(url: URL, workerData: unknown): Worker {
  if (!isTypeScriptSource(url.href)) return new Worker(url, { workerData });
  // A small bootstrap registers tsx in the new thread (found from this package, not from the cwd), then
  // loads the worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

interface Answer {
  n: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  code?: string;
}

/** One worker thread and its requests in flight. */
export class ThreadChannel {
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private next = 0;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker, stopped: string) {
    worker.on('message', (msg: Answer) => {
      const p = this.pending.get(msg.n);
      if (!p) return;
      this.pending.delete(msg.n);
      if (msg.ok) p.resolve(msg.value);
      // The SQLite code (SQLITE_FULL, …) comes along: the receiver answers a full disk differently.
      else p.reject(Object.assign(new Error(msg.error), msg.code ? { code: msg.code } : {}));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', () => this.fail(this.failure ?? new Error(stopped)));
  }

  /** Starts the thread; resolves once its connection is open (rejects if it could not open it). */
  static async start(url: URL, workerData: unknown, stopped: string): Promise<ThreadChannel> {
    const worker = startThread(url, workerData);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      const exited = (code: number) => reject(new Error(`${stopped} (exit code ${code})`));
      worker.once('error', failed);
      worker.once('exit', exited);
      worker.once('message', () => {
        worker.off('error', failed);
        worker.off('exit', exited);
        resolve();
      });
    });
    return new ThreadChannel(worker, stopped);
  }

  /** Requests waiting for their answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** False once the thread stopped (crashed, or closed): every request is refused. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  call<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const n = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(n, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...msg, n });
    });
  }

  /** Refuses what is in flight and every later request with `err`. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /**
   * Stops the thread at once, whatever it is doing (a read in the middle of a long query included); what is
   * in flight is refused with `err`.
   */
  async terminate(err: Error): Promise<void> {
    this.fail(err);
    await this.worker.terminate();
  }
}
