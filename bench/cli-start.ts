/**
 * How long the `actionurl` command takes to start and finish, per command, beside `node -e 0` (Node's own
 * start, the floor) on the same machine in the same run. Each command loads only its own modules
 * (src/cli/main.ts); `serve --help` loads the receiver's, which shows what the others no longer pay.
 * The runs are interleaved (one of each in turn), so a change in the machine's load hits all alike.
 *
 *   npm run bench -- cli-start [--runs=20]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/actionurl.js', import.meta.url));
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? 20);

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['actionurl events', [BIN, 'events']],
  ['actionurl vars', [BIN, 'vars']],
  ['actionurl expand …', [BIN, 'expand', 'http://10.0.0.5/actionurl/$mac']],
  ['actionurl config generate --help', [BIN, 'config', 'generate', '--help']],
  ['actionurl backup --help', [BIN, 'backup', '--help']],
  ['actionurl serve --help', [BIN, 'serve', '--help']],
  ['actionurl --help (every command)', [BIN, '--help']],
];

const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
const once = (args: string[]): number => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
for (const [, args] of cases) once(args); // warm-up: file cache
for (let i = 0; i < runs; i++) for (const [name, args] of cases) times.get(name)!.push(once(args));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = median(times.get('node -e 0')!);
console.log(`${runs} runs each, interleaved; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`${'command'.padEnd(36)} ${'median'.padStart(8)} ${'p90'.padStart(8)}   × node -e 0`);
for (const [name] of cases) {
  const xs = times.get(name)!;
  const p90 = [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
  console.log(`${name.padEnd(36)} ${median(xs).toFixed(0).padStart(6)} ms ${p90.toFixed(0).padStart(6)} ms   ${(median(xs) / floor).toFixed(1)}`);
}
