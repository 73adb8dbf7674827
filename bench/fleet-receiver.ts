/**
 * A bare receiver for the fleet benchmark, in its own process so its work does not count against the
 * fleet's: raw `net`, answers every request 200 on a kept-alive connection, counts requests.
 * Tells the parent its port; answers "count" with the number of requests it got.
 */
import net from 'node:net';

let count = 0;
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nOK');
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  let tail = '';
  socket.on('data', (chunk: Buffer) => {
    // Count request heads; a head's CRLFCRLF may straddle two reads.
    const text = tail + chunk.toString('latin1');
    let n = 0;
    for (let i = text.indexOf('\r\n\r\n'); i !== -1; i = text.indexOf('\r\n\r\n', i + 4)) n++;
    const last = text.lastIndexOf('\r\n\r\n');
    tail = last === -1 ? text.slice(-3) : text.slice(last + 4).slice(-3);
    count += n;
    if (n === 1) socket.write(RESPONSE);
    else if (n > 1) socket.write(Buffer.concat(Array.from({ length: n }, () => RESPONSE)));
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
process.on('message', (m) => {
  if (m === 'count') process.send!({ count });
  if (m === 'exit') process.exit(0);
});
