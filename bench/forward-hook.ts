/**
 * The webhook receiver of the forwarding benchmark, in its own process: answers every POST 204 and records,
 * per event, the delay from the receiver's `received_at` to its arrival here. `GET /stats` returns
 * `{count, delays}` (ms, sorted) and `GET /reset` clears them. Prints `listening <port>` once ready.
 */
import http from 'node:http';

let delays: number[] = [];
let count = 0;

const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/reset') {
      delays = [];
      count = 0;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ count, delays: req.url === '/stats' ? [...delays].sort((a, b) => a - b) : [] }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    count++;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data?: { event?: { received_at?: string } } };
      const at = body.data?.event?.received_at;
      if (at) delays.push(now - Date.parse(at));
    } catch {
      // counted, not timed
    }
    res.writeHead(204);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
