/** What the parts of a starting receiver share: the `Start` they are made from and the `Receiver` they make. */
import type { Logger } from 'pino';
import type { ReceiverConfig } from '../config/receiver-config.ts';
import type { Lifetime } from '../core/lifetime.ts';
import type { HttpHandler, HttpRefusal } from '../http/types.ts';
import type { ServerContext } from '../server/context.ts';
import type { ReceiverMetrics } from '../server/metrics.ts';
import type { RejectionSampler } from '../server/rejections.ts';

/** What every part of a starting receiver is given: its configuration, and what outlives the store. */
export interface Start {
  config: ReceiverConfig;
  logger: Logger;
  /** Replaced by a fresh set when a receiver on its journal tries to start again (each name is registered once). */
  metrics: ReceiverMetrics;
  /** Every part made, closed in reverse order on stop and on a failed start alike. */
  life: Lifetime;
  /** Told when the local journal has been moved into PostgreSQL (the forwarder, once there is one). */
  journalMoved: { wake?: () => void };
}

/** A receiver wired to its store: what the HTTP server calls, and what runs once it listens. */
export interface Receiver {
  ctx: ServerContext;
  handler: HttpHandler;
  onRefused(refusal: HttpRefusal): void;
  /** Starts the background loops (pruning, call time-outs, refusal summaries). */
  run(): void;
  /** The start-up log lines after "listening". */
  announceLines(url: string): void;
  /** What ingest is built with, for requests kept while the receiver started on its journal. */
  replay: { sampler: RejectionSampler; maxPhones: number };
}
