/**
 * A reader thread that misbehaves on request, for the reader pool's tests: `op: 'crash'` throws out of the
 * message handler (the thread dies with an error), `op: 'hang'` never answers, anything else echoes its args.
 */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: { n: number; op: string; args: unknown[] }) => {
  if (msg.op === 'crash') throw new Error('reader crashed on purpose');
  if (msg.op === 'hang') return;
  parentPort!.postMessage({ n: msg.n, ok: true, value: msg.args });
});
parentPort!.postMessage({ ready: true });
