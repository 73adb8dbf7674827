/**
 * Forwarding benchmark (target in docs/forwarding.md): ingest throughput of `actionurl serve` with one
 * webhook and MQTT enabled, beside `actionurl serve` alone, same load, same run: forwarding should cost
 * ingest less than 20 %. Then the end-to-end delay from an event's arrival at the receiver to the webhook
 * receiving it (p50/p99), at a steady rate. Last, the receiver's CPU time per event with and without
 * forwarding at one steady rate: the cost that does not depend on what else shares the machine (here the
 * webhook receiver and Mosquitto take CPU from the same cores, which the throughput figure counts too),
 * per thread as the kernel accounts it (bench/ingest-threads.ts): the main thread, where forwarding runs,
 * the SQLite writer, and the rest (readers, libuv's pool, V8's).
 * The webhook receiver (bench/forward-hook.ts) and a Mosquitto on a free port are child processes; the load
 * generator is this process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, fmt, paced, percentile, rateOf, ROOT, spawnListening, spawnServe, WARMUP_MS } from './ingest-load.ts';
import { cpuBetween, threadTimes, type CpuSplit } from './ingest-threads.ts';

const CONNECTIONS = 64;
const PHONES = 2000;
const RUN_MS = 6000;
const PACED_RATE = 500;
const PACED_MS = 5000;
/** The CPU comparison's steady rate: well below what either receiver takes, so neither falls behind. */
const CPU_RATE = 1000;
const CPU_MS = 6000;
/** CPU runs per receiver, alternating between the two. */
const CPU_RUNS = 3;

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
  offB += steady.ok + steady.failed;
  await new Promise((r) => setTimeout(r, 2000));
  const { delays, count } = await stats();
  console.log(
    `paced ${fmt(PACED_RATE)} events/s for ${PACED_MS / 1000} s: ${fmt(steady.ok)} acknowledged, ${fmt(count)} delivered; ` +
      `ingest → webhook received p50 ${fmt(percentile(delays, 50), 1)} ms, p99 ${fmt(percentile(delays, 99), 1)} ms`,
  );

  // The receiver's own cost, whatever else the machine runs (here the webhook receiver, Mosquitto and the
  // load share its cores): CPU time per event, at the same steady rate, until every delivery is made.
  const cpuPerEvent = async (server: typeof alone, forwards: boolean, offset: number) => {
    const pid = server.child.pid!;
    const before = threadTimes(pid);
    const delivered = forwards ? (await stats('/count')).count : 0;
    const run = await paced(server.port, { ...base, durationMs: CPU_MS, offset, rate: CPU_RATE, connections: 16 });
    // Forwarding: until the webhook has every event (MQTT goes the same way); then a second for the rest.
    for (let waited = 0; forwards && waited < 30_000; waited += 200) {
      if ((await stats('/count')).count - delivered >= run.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const used = cpuBetween(pid, before, threadTimes(pid));
    // µs per acknowledged event, by thread.
    const perEvent = (ns: number) => ns / 1000 / run.ok;
    return { split: { main: perEvent(used.main), writer: perEvent(used.writer), other: perEvent(used.other), total: perEvent(used.total) }, events: run.ok };
  };
  const cpu = { alone: [] as CpuSplit[], forwarding: [] as CpuSplit[] };
  for (let i = 0; i < CPU_RUNS; i++) {
    const a = await cpuPerEvent(alone, false, offA);
    offA += a.events;
    cpu.alone.push(a.split);
    const b = await cpuPerEvent(forwarding, true, offB);
    offB += b.events;
    cpu.forwarding.push(b.split);
  }
  const mean = (xs: CpuSplit[], part: keyof CpuSplit) => xs.reduce((sum, x) => sum + x[part], 0) / xs.length;
  console.log(`receiver CPU per event at ${fmt(CPU_RATE)} events/s (µs; ${CPU_RUNS} runs each, alternating):`);
  for (const [label, runs] of [['alone', cpu.alone], ['with forwarding', cpu.forwarding]] as const) {
    const parts = (['main', 'writer', 'other'] as const).map((part) => `${part} ${fmt(mean(runs, part))}`).join(', ');
    console.log(`  ${label.padEnd(16)} ${fmt(mean(runs, 'total')).padStart(5)}  (${parts}; runs: ${runs.map((r) => fmt(r.total)).join(', ')})`);
  }
  const cpuCost = 1 - mean(cpu.alone, 'total') / mean(cpu.forwarding, 'total');
  console.log(`on a receiver bound by its own CPU, forwarding would cost ingest ${fmt(cpuCost * 100, 1)} %  (target < 20 %: ${cpuCost < 0.2 ? 'met' : 'NOT met'})`);
} finally {
  await Promise.all([alone.stop(), forwarding.stop(), hook.stop()]);
  mosquitto.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
