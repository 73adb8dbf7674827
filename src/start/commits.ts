/** The commit queue of the receiver's mode, its outcomes counted and logged. */
import type { Forwarder } from '../forwarding/forwarder.ts';
import type { ReceiverMode } from '../server/mode/mode.ts';
import type { StoreHealth } from '../server/store-health.ts';
import { isStoreFull } from '../store/full.ts';
import type { Start } from './parts.ts';

export function openCommits(start: Start, mode: ReceiverMode, forwarder: Forwarder | undefined, storeHealth: StoreHealth) {
  const { config, logger, metrics } = start;
  return mode.open({
    outbox: forwarder && forwarder.size > 0 ? forwarder.hooks : undefined,
    ...config.commits,
    onCommit: (size, ms) => {
      storeHealth.stored();
      metrics.batchSize.observe(size);
      metrics.commitSeconds.observe(ms / 1000);
    },
    onError: (err) => {
      storeHealth.failed(err);
      metrics.commitErrors.inc();
      if (isStoreFull(err)) {
        metrics.storeFull.inc();
        logger.error({ err }, 'commit failed: the disk is full; answering 503 until there is space again');
      } else {
        logger.error({ err }, 'commit failed');
      }
    },
  });
}
