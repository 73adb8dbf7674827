/**
 * The composition root: the one place the receiver (src/server), the dashboard (src/web) and the store
 * (src/store) are put together. The server and the dashboard never import each other; the parts in
 * src/start/ wire them, from the configuration src/config/ checked once.
 *
 * Starting and stopping a receiver programmatically: `actionurl serve` uses this, and so do tests of the
 * dashboard and of virtual phones.
 *
 *   const server = await startServer({ db: ':memory:', port: 0, host: '127.0.0.1', logLevel: 'silent' });
 *   // server.url === 'http://127.0.0.1:<port>'
 *   await server.close();
 *
 * Closing stops accepting, answers what is in hand, commits everything queued, then closes the store.
 */
import { existsSync } from 'node:fs';
import pino from 'pino';
import type { ServerOptions } from './config/options.ts';
import { receiverConfig } from './config/receiver-config.ts';
import { Lifetime } from './core/lifetime.ts';
import { dedupeLogHook } from './server/log-dedupe.ts';
import { receiverMetrics } from './server/metrics.ts';
import { StoreUnreachableError } from './store/open.ts';
import { openJournal } from './store/postgres.ts';
import type { Store } from './store/types.ts';
import { createReceiverHttp } from './start/http.ts';
import { storeKept } from './start/kept-requests.ts';
import { startOnJournal } from './start/on-journal.ts';
import type { Start } from './start/parts.ts';
import { assemble } from './start/receiver.ts';
import { running, type RunningServer } from './start/running.ts';
import { openConfiguredStore } from './start/store.ts';

export type { ServerOptions } from './config/options.ts';
export { ServerOptionError } from './config/error.ts';
export type { RunningServer } from './start/running.ts';
export { PROVISION_TOKEN_SECRET_WARNING, PROVISION_TOKEN_WARNING } from './start/announce.ts';

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = receiverConfig(options);
  // Identical warnings and errors (a full disk, a database away) once per interval, with a count.
  const logger = config.logger ?? pino({ level: config.logLevel, hooks: { logMethod: dedupeLogHook() } });
  const start: Start = { config, logger, metrics: receiverMetrics(), life: new Lifetime(), journalMoved: {} };
  try {
    // A journal file of an earlier run is this receiver's from the start: a receiver restarted while
    // PostgreSQL is away starts on it, and requests it kept then are stored before this one listens.
    const journalPath = config.store.journalOfEarlierRun;
    const journal = journalPath && existsSync(journalPath) ? openJournal(journalPath) : undefined;
    if (journal) start.life.add('journal', () => journal.close());
    let store: Store;
    try {
      store = config.store.given ?? (await openConfiguredStore(start, journal));
    } catch (err) {
      // Restarted while PostgreSQL is away: with a journal that has reached it before, start on that.
      if (err instanceof StoreUnreachableError && journal?.connectedBefore) return await startOnJournal(start, journal, err);
      throw err;
    }
    start.life.add('store', () => store.close());
    const receiver = await assemble(start, store, start.life);
    if (journal && journal.held > 0) {
      await storeKept(start, receiver, journal).catch((err) =>
        start.logger.error({ err, held: journal.held }, 'the requests kept while this receiver last started on its local journal could not be stored; they are kept for the next start'));
    }
    const http = createReceiverHttp(start, receiver);
    // Remote control closes first of all (commands waiting for a phone fail at once instead of holding
    // requests open), then the server stops taking requests and answers those in hand.
    start.life.add('http', () => http.close(5000), { closesAfter: 'control' });
    const address = await http.listen(config.listen.port, config.listen.host);
    receiver.run();
    return running(start, address, { ctx: receiver.ctx, announce: receiver.announceLines });
  } catch (err) {
    await start.life.close();
    throw err;
  }
}
