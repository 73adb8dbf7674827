/**
 * Forwarding benchmark (target in docs/forwarding.md): ingest throughput of `actionurl serve` with one
 * webhook and MQTT enabled, beside `actionurl serve` alone, same load, same run: forwarding should cost
 * ingest less than 20 %. Then the end-to-end delay from an event's arrival at the receiver to the webhook
 * receiving it (p50/p99), at a steady rate. The webhook receiver (bench/forward-hook.ts) and a Mosquitto on a
 * free port are child processes; the load generator is this process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, fmt, paced, percentile, rateOf, ROOT, spawnListening, spawnServe, WARMUP_MS } from './ingest-load.ts';

const CONNECTIONS = 64;
const PHONES = 2000;
const RUN_MS = 6000;
const PACED_RATE = 500;
const PACED_MS = 5000;


async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-fwd-'));
const mqttPort = await freePort();
writeFileSync(join(dir, 'mosquitto.conf'), `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\n`);
const mosquitto = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));

const hook = await spawnListening(['--import', 'tsx', join(ROOT, 'bench/forward-hook.ts')], /listening (\d+)/);
const hookUrl = `http://127.0.0.1:${hook.port}`;
const alone = await spawnServe(join(dir, 'alone.sqlite'));
const forwarding = await spawnServe(join(dir, 'forwarding.sqlite'), [
  '--webhook', `${hookUrl}/hook`,
  '--webhook-secret', `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  '--mqtt', `mqtt://127.0.0.1:${mqttPort}`,
]);

const stats = async (path = '/stats') => (await (await fetch(`${hookUrl}${path}`)).json()) as { count: number; delays: number[] };

try {
  console.log(`load: ${CONNECTIONS} keep-alive connections, ${fmt(PHONES)} phones, ${RUN_MS / 1000} s per run after ${WARMUP_MS / 1000} s warm-up`);
  const base = { connections: CONNECTIONS, phones: PHONES, encode: false };
  let offA = (await closedLoop(alone.port, { ...base, durationMs: WARMUP_MS })).ok;
  let offB = (await closedLoop(forwarding.port, { ...base, durationMs: WARMUP_MS })).ok;
  // Alternate, so drift of the machine (other work, the page cache) hits both alike.
  const a1 = await closedLoop(alone.port, { ...base, durationMs: RUN_MS / 2, offset: offA });
  offA += a1.ok + a1.failed;
  const b1 = await closedLoop(forwarding.port, { ...base, durationMs: RUN_MS / 2, offset: offB });
  offB += b1.ok + b1.failed;
  const b2 = await closedLoop(forwarding.port, { ...base, durationMs: RUN_MS / 2, offset: offB });
  offB += b2.ok + b2.failed;
  const a2 = await closedLoop(alone.port, { ...base, durationMs: RUN_MS / 2, offset: offA });
  offA += a2.ok + a2.failed;
  const aloneRate = (rateOf(a1) + rateOf(a2)) / 2;
  const fwdRate = (rateOf(b1) + rateOf(b2)) / 2;
  const cost = 1 - fwdRate / aloneRate;
  console.log(`serve alone                              ${fmt(aloneRate).padStart(7)} events/s`);
  console.log(`serve + webhook + MQTT (discovery on)    ${fmt(fwdRate).padStart(7)} events/s`);
  console.log(`forwarding costs ingest ${fmt(cost * 100, 1)} %  (target < 20 %: ${cost < 0.2 ? 'met' : 'NOT met'})`);

  // Let the saturated run's backlog drain, then measure the delay at a steady rate.
  const drainStart = Date.now();
  let last = -1;
  for (;;) {
    const { count } = await stats('/count');
    if (count === last) break;
    last = count;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`webhook backlog after the saturated runs drained in ${fmt((Date.now() - drainStart) / 1000, 1)} s (${fmt(last)} deliveries so far)`);
  await stats('/reset');
  const steady = await paced(forwarding.port, { ...base, durationMs: PACED_MS, offset: offB, rate: PACED_RATE, connections: 16 });
  await new Promise((r) => setTimeout(r, 2000));
  const { delays, count } = await stats();
  console.log(
    `paced ${fmt(PACED_RATE)} events/s for ${PACED_MS / 1000} s: ${fmt(steady.ok)} acknowledged, ${fmt(count)} delivered; ` +
      `ingest → webhook received p50 ${fmt(percentile(delays, 50), 1)} ms, p99 ${fmt(percentile(delays, 99), 1)} ms`,
  );
} finally {
  await Promise.all([alone.stop(), forwarding.stop(), hook.stop()]);
  mosquitto.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
