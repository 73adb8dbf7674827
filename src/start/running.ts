/** The running receiver's handle: its address, its parts (`ctx`) once it has them, and how to stop it. */
import type { Logger } from 'pino';
import type { ServerContext } from '../server/context.ts';
import type { Start } from './parts.ts';

export interface RunningServer {
  /** `http://127.0.0.1:8080`: the address it listens on (0.0.0.0 shown as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The receiver's parts; throws while it is still starting on its local journal (see `ready`). */
  readonly ctx: ServerContext;
  readonly logger: Logger;
  /**
   * Resolves once the receiver is fully started: at once, or, for a receiver on PostgreSQL started while the
   * database was away, once it has been reached and the requests kept meanwhile have gone through ingest.
   */
  readonly ready: Promise<void>;
  /** True while the receiver answers phones from its local journal only (PostgreSQL not reached yet). */
  readonly starting: boolean;
  /** Writes the start-up log lines, when `deferAnnouncement` held them back. */
  announce(): void;
  close(): Promise<void>;
}

/** What `running` shows of a receiver; a receiver on its journal fills in `ctx` once it has it. */
export interface RunningParts {
  ctx?: ServerContext;
  /** The start-up log lines of the receiver (see Receiver.announceLines). */
  announce(url: string): void;
  /** Until `ctx` is there: the line of a receiver on its journal. */
  announceStandby?(url: string): void;
  ready?: Promise<void>;
}

export function running(start: Start, address: { address: string; port: number }, parts: RunningParts): RunningServer {
  const { logger, life, config } = start;
  const scheme = config.listen.tls ? 'https' : 'http';
  const shownHost = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  const url = `${scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  const announce = () => (parts.ctx || !parts.announceStandby ? parts.announce(url) : parts.announceStandby(url));
  if (!config.listen.deferAnnouncement) announce();
  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: address.address,
    logger,
    get ctx(): ServerContext {
      if (!parts.ctx) throw new Error('the receiver is still starting on its local journal: PostgreSQL has not been reached yet');
      return parts.ctx;
    },
    get ready() {
      return parts.ready ?? Promise.resolve();
    },
    get starting() {
      return parts.ctx === undefined;
    },
    announce,
    close() {
      closing ??= life.close((name, err) => logger.error({ err, part: name }, 'closing failed')).then(() => logger.info('receiver stopped'));
      return closing;
    },
  };
}
