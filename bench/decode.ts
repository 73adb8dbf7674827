/**
 * Cost of the decoder on the ingest hot path, beside WHATWG URL parsing of the same (encoded) targets as a
 * reference point. Prints ns per request and the ratio.
 */
import { decodeRequestTarget } from '../src/core/decode.ts';

const targets = [
  '/actionurl/incoming_call?mac=00:15:65:AA:BB:CC&ip=10.0.0.7&model=SIP-T46S&firmware=66.86.0.15&active_url=sip:100@pbx&active_user=100&active_host=pbx&local=sip:100@pbx&remote=sip:200@pbx&display_local=Reception&display_remote=John Doe&call_id=3',
  '/actionurl?event=registered;mac=001565aabbcc;ip=10.0.0.7;model=T46S;firmware=66.86.0.15;active_user=100',
  '/actionurl/call_established?mac=001565aabbcc&display_remote=Jörg Müller&remote=$remote&call_id=4',
].map((t) => Buffer.from(t, 'utf8'));
const encoded = targets.map((b) => `http://h${encodeURI(b.toString('utf8'))}`);

function time(label: string, fn: (i: number) => unknown, n: number): number {
  for (let i = 0; i < 20_000; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += fn(i) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(36)} ${ns.toFixed(0).padStart(6)} ns/request  (${(1e9 / ns / 1000).toFixed(0)}k/s, ${sink > 0 ? 'ok' : ''})`);
  return ns;
}

const n = 300_000;
const ours = time('decodeRequestTarget (raw bytes)', (i) => decodeRequestTarget(targets[i % 3]), n);
const ref = time('new URL + searchParams (encoded)', (i) => {
  const u = new URL(encoded[i % 3]);
  return Object.fromEntries(u.searchParams);
}, n);
console.log(`ratio decode / URL parsing: ${(ours / ref).toFixed(2)}`);
