/** The receiver's HTTP server: its limits from the configuration, its troubles counted and logged. */
import { isLoopbackAddress } from '../core/local-client.ts';
import { createHttpServer, type HttpServer } from '../http/server.ts';
import type { Receiver, Start } from './parts.ts';

/** The HTTP server of a receiver, calling whatever `stage` holds (a receiver on its journal swaps it). */
export function createReceiverHttp(start: Start, stage: Pick<Receiver, 'handler' | 'onRefused'>): HttpServer {
  // `start.metrics` read at each call: a receiver on its journal gets fresh metrics at each try to start.
  const { config, logger } = start;
  const { connections } = config;
  const http = createHttpServer({
    handler: (req, res) => stage.handler(req, res),
    tls: config.listen.tls,
    onHandlerError: (err, req) => logger.error({ err, method: req.method, path: req.path }, 'handler failed'),
    onResponse: (_req, status) => start.metrics.httpResponses.inc({ code: String(status) }),
    onRefused: (refusal) => stage.onRefused(refusal),
    onConnectionCount: (n) => start.metrics.connections.set(n),
    maxConnectionsPerAddress: connections.maxPerAddress,
    unlimitedAddress: connections.limitLoopback ? undefined : isLoopbackAddress,
    onAcceptError: (err, idleClosed) => {
      start.metrics.acceptErrors.inc({ code: err.code ?? 'unknown' });
      // Once per interval with a count (log dedupe): accepts fail for as long as the descriptors are gone.
      logger.error(
        { err, open: http.connections, idleClosed },
        'out of file descriptors: new connections wait; idle ones are closed to make room (raise the limit: ulimit -n, LimitNOFILE=)',
      );
    },
    maxSockets: connections.maxSockets,
    onSocketsFull: (open, idleClosed, refused) => {
      start.metrics.socketsFull.inc({ outcome: refused ? 'refused' : 'idle_closed' });
      logger.warn(
        { open, idleClosed, refused, fileLimit: connections.fileLimit },
        'near the open-file limit: idle connections are closed to make room, new ones are refused when none is idle (raise it: ulimit -n, LimitNOFILE=)',
      );
    },
    onConnectionRefused: (address, open) => {
      start.metrics.connectionsRefused.inc();
      // Once per interval with a count (log dedupe), however fast the client opens sockets.
      logger.warn({ address, open }, 'connections from one address over --max-connections-per-address: new ones are closed');
    },
  });
  return http;
}
