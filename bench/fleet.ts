/**
 * How many virtual phones, and what request rate, one fleet process sustains. The receiver runs in a child
 * process (bench/fleet-receiver.ts) so only the fleet's own work is measured here. Prints, per run: phones,
 * call rate, requests per second achieved, latency percentiles, the fleet process's CPU use, event-loop
 * delay, memory, and whether every request sent arrived.
 *
 *   npm run bench -- fleet                  5,000 phones, 20 s per run
 *   PHONES=2000 SECONDS=10 npm run bench -- fleet
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FleetSim, runFleet } from '../src/phone/fleet/index.ts';

const PHONES = Number(process.env.PHONES ?? 5000);
const SECONDS = Number(process.env.SECONDS ?? 20);
const RATES = (process.env.RATES ?? '60,360,1440').split(',').map(Number);

function simOnly(): void {
  // The simulation alone (engine, agenda, PRNG), no network: the ceiling the sender has to keep up with.
  const sim = new FleetSim({ phones: PHONES, callsPerHour: 60, seed: 'bench', rampMs: 10_000 });
  let incidents = 0;
  const t0 = performance.now();
  sim.runUntil(3_600_000, (_p, fired) => {
    incidents += fired.length;
  });
  const ms = performance.now() - t0;
  console.log(`simulation only: ${PHONES} phones, 1 simulated hour at 60 calls/phone/h: ${incidents} incidents in ${(ms / 1000).toFixed(2)} s`
    + ` = ${Math.round(incidents / (ms / 1000)).toLocaleString('en')} incidents/s`);
}

async function startReceiver(): Promise<{ port: number; count(): Promise<number>; stop(): void }> {
  const child = fork(fileURLToPath(new URL('./fleet-receiver.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    port,
    count: () => new Promise((resolve) => {
      child.once('message', (m: { count: number }) => resolve(m.count));
      child.send('count');
    }),
    stop: () => child.send('exit'),
  };
}

async function live(callsPerHour: number): Promise<void> {
  const receiver = await startReceiver();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peakQueued = 0;
  const s = await runFleet({
    target: `http://127.0.0.1:${receiver.port}`, phones: PHONES, durationSec: SECONDS, callsPerHour, seed: 'bench',
    rampSec: 2, concurrency: 256, onProgress: (p) => {
      peakQueued = Math.max(peakQueued, p.queued);
    },
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  const got = await receiver.count();
  receiver.stop();
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  console.log([
    `${PHONES} phones, ${callsPerHour} calls/phone/h (${Math.round((PHONES * callsPerHour) / 3600)} calls/s offered), ${SECONDS} s:`,
    `  requests ${s.requests.sent.toLocaleString('en')} sent, ${s.requests.ok.toLocaleString('en')} ok, ${s.requests.failed} failed, ${s.requests.dropped} dropped;`
      + ` receiver got ${got.toLocaleString('en')}${got === s.requests.sent ? ' (all)' : ' (MISMATCH)'}`,
    `  rate ${s.requests.perSecond.toLocaleString('en')} requests/s; latency p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms, p99 ${s.latencyMs.p99} ms`,
    `  fleet process: CPU ${cpuPct.toFixed(0)}% of one core, event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms,`
      + ` peak backlog ${peakQueued}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, ran ${wall.toFixed(1)} s for ${SECONDS} s`,
  ].join('\n'));
}

simOnly();
for (const rate of RATES) await live(rate);
