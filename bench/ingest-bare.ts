/**
 * The reference for the ingest benchmark: a bare `node:http` server that answers every request `200 OK`
 * and does nothing else. Prints `listening <port>` once ready.
 */
import http from 'node:http';

const server = http.createServer({ keepAliveTimeout: 30_000 }, (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '3' });
  res.end('OK\n');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
