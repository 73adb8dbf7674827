/** The receiver's background loops, started once it listens and stopped with its lifetime. */
import { pause, type Lifetime } from '../core/lifetime.ts';
import type { CommitQueue } from '../server/commit-queue.ts';
import type { ReceiverMode } from '../server/mode/mode.ts';
import type { RejectionSampler } from '../server/rejections.ts';
import type { Store } from '../store/types.ts';
import type { Start } from './parts.ts';

export function runBackground(
  start: Start,
  parts: { store: Store; mode: ReceiverMode; commits: CommitQueue; sampler: RejectionSampler },
  life: Lifetime,
): void {
  const { config, logger, metrics } = start;
  const { store, mode, commits, sampler } = parts;
  const { now } = config;
  const every = (ms: number, task: () => Promise<unknown>) => {
    let busy = false;
    const t = setInterval(() => {
      if (busy) return;
      busy = true;
      task()
        .catch((err) => logger.error({ err }, 'background task failed'))
        .finally(() => (busy = false));
    }, ms);
    t.unref();
    life.signal.addEventListener('abort', () => clearInterval(t));
  };
  // Summaries of suppressed refusals are written when their window closes.
  every(5_000, async () => {
    for (const row of sampler.drain(now())) await commits.addRejected(row);
  });
  every(60_000, () => mode.expireCalls(now(), config.callTimeoutMs));
  const retention = config.retention;
  if (retention !== undefined) {
    // Small batches, one at a time, so pruning never holds the database for long between ingest commits.
    every(retention.everyMs, async () => {
      for (;;) {
        const deleted = await store.prune(now() - retention.ms, 1000);
        metrics.pruned.inc({}, deleted);
        if (deleted === 0 || life.signal.aborted) break;
        await pause(10, life.signal);
      }
    });
  }
}
