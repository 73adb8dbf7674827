/**
 * What a running program is made of, in one list: each part is added with how it closes as it is made, and
 * closing (after success or after a failed start alike) closes them in reverse order, so nothing made is
 * left running and nothing is closed while a part made after it still uses it. Background loops watch
 * `signal`, which is aborted first.
 */
export class Lifetime {
  private readonly parts: { name: string; close: () => unknown }[] = [];
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;

  /** Aborted when closing starts: loops and waits stop on it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /**
   * Adds a part. It closes before every part added earlier, unless `closesAfter` names one: then it closes
   * just after that part (for a part that must stop taking work before others made earlier close).
   */
  add(name: string, close: () => unknown, opts: { closesAfter?: string } = {}): void {
    if (this.closing) throw new Error(`${name} was made while closing`);
    const at = opts.closesAfter === undefined ? -1 : this.parts.findIndex((p) => p.name === opts.closesAfter);
    if (opts.closesAfter !== undefined && at < 0) throw new Error(`${name}: no part named ${opts.closesAfter}`);
    this.parts.splice(at < 0 ? this.parts.length : at, 0, { name, close });
  }

  /** The names in the order they will close. */
  get closeOrder(): string[] {
    return this.parts.map((p) => p.name).reverse();
  }

  /** Closes every part, newest first; one that fails is reported to `onError` and the rest still close. */
  close(onError: (name: string, err: unknown) => void = () => {}): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      for (const part of this.parts.reverse()) {
        try {
          await part.close();
        } catch (err) {
          onError(part.name, err);
        }
      }
      this.parts.length = 0;
    })();
    return this.closing;
  }
}

/** Resolves after `ms`, or at once when `signal` is aborted (never rejects). The timer does not hold the process. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done);
  });
}
