/**
 * Started while PostgreSQL is away, on a journal that has reached it before (see src/server/standby.ts):
 * phones are answered and their requests kept while it tries to reach PostgreSQL; then the receiver is
 * wired as at any start, the kept requests go through its ingest in order, and it takes over the port.
 */
import { Lifetime, pause } from '../core/lifetime.ts';
import { RateLimiter } from '../server/access.ts';
import { receiverMetrics } from '../server/metrics.ts';
import { createStandby } from '../server/standby.ts';
import type { Journal } from '../store/journal.ts';
import type { StoreUnreachableError } from '../store/open.ts';
import { createReceiverHttp } from './http.ts';
import { storeKept } from './kept-requests.ts';
import type { Receiver, Start } from './parts.ts';
import { assemble } from './receiver.ts';
import { running, type RunningParts, type RunningServer } from './running.ts';
import { openConfiguredStore } from './store.ts';

export async function startOnJournal(start: Start, journal: Journal, unreachable: StoreUnreachableError): Promise<RunningServer> {
  const { config, logger, life } = start;
  let reason = unreachable.message;
  const standby = createStandby({
    journal,
    settings: config.secrets,
    allowlist: config.allowlist,
    rateLimiter: config.rateLimit ? new RateLimiter(config.rateLimit) : undefined,
    now: config.now,
    reason: () => reason,
    onError: (err) => logger.error({ err }, 'a phone\'s request could not be kept in the local journal'),
  });
  const stage: Pick<Receiver, 'handler' | 'onRefused'> = { handler: standby.handler, onRefused: standby.onRefused };
  const http = createReceiverHttp(start, stage);
  let httpClosed: Promise<void> | undefined;
  const closeHttp = () => (httpClosed ??= http.close(5000));
  life.add('http', closeHttp);
  const address = await http.listen(config.listen.port, config.listen.host);
  const parts: RunningParts = {
    announce: () => {},
    announceStandby: (url) => logger.warn(
      { url, reason, held: journal.held },
      'receiver listening on its local journal: PostgreSQL cannot be reached; phones are answered and their requests kept, the dashboard and API wait for the database',
    ),
  };
  const server = running(start, address, parts);
  parts.ready = (async () => {
    let receiver: Receiver | undefined;
    while (!receiver) {
      if (life.signal.aborted) return;
      const inner = new Lifetime();
      try {
        const store = await openConfiguredStore(start, journal);
        inner.add('store', () => store.close());
        const made = await assemble(start, store, inner);
        inner.add('http', closeHttp, { closesAfter: 'control' }); // as at any start (startServer)
        if (life.signal.aborted) return void (await inner.close());
        life.add('receiver', () => inner.close());
        receiver = made;
      } catch (err) {
        await inner.close();
        start.metrics = receiverMetrics();
        reason = (err as Error).message.replace(/\s+/g, ' ');
        // Once per interval with a count (log dedupe): every try fails the same way while it is away.
        logger.warn({ err: reason, held: journal.held }, 'still starting on the local journal: PostgreSQL cannot be used yet; trying again');
        await pause(config.store.startRetryMs, life.signal);
      }
    }
    for (;;) {
      if (life.signal.aborted) return;
      try {
        await storeKept(start, receiver, journal, () => {
          // No wait between the last empty read and this: no request can fall between the two handlers.
          stage.handler = receiver.handler;
          stage.onRefused = receiver.onRefused;
          parts.ctx = receiver.ctx;
          parts.announce = receiver.announceLines;
        }, standby.refusalsDropped());
        break;
      } catch (err) {
        logger.error({ err, held: journal.held }, 'the requests kept while starting on the local journal could not be stored yet; trying again');
        await pause(config.store.startRetryMs, life.signal);
      }
    }
    receiver.run();
    if (!config.listen.deferAnnouncement) receiver.announceLines(server.url);
  })();
  return server;
}
