/**
 * `actionurl fleet`: many virtual phones with realistic traffic against a receiver. A progress line on
 * stderr while it runs, a summary at the end (per incident, failures by reason, latency percentiles), or
 * the summary as JSON with --json. At the end (and on Ctrl-C) the calls still up are hung up, so the
 * receiver is not left with phones in calls; Ctrl-C still prints the summary.
 */
import { Option, type Command } from 'commander';
import { normalizeServerUrl } from '../../core/ingest-url.ts';
import { DEFAULT_CALLS_PER_HOUR, runFleet, type FleetProgress, type FleetSummary } from '../../phone/fleet/index.ts';
import { UsageError } from '../errors.ts';
import { EXPAND_MODES, intArg, numberArg, readFileOption } from '../options.ts';
import type { ExpandMode } from '../../core/templates.ts';
import { print, table } from '../output.ts';

interface FleetCliOptions {
  target?: string;
  token?: string;
  phones: number;
  duration: number;
  callsPerHour: number;
  seed?: string;
  concurrency: number;
  ramp?: number;
  talk?: number;
  mode: ExpandMode;
  timeout: number;
  macOffset: number;
  ca?: string;
  insecure?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function progressLine(p: FleetProgress): string {
  return `fleet ${p.elapsedSec.toFixed(1)}s  phones up ${p.phonesUp}/${p.phones}  sent ${p.sent}  failed ${p.failed}  queued ${p.queued}  rate ${Math.round(p.rate)}/s`;
}

export function summaryText(s: FleetSummary): string {
  const r = s.requests;
  const out = [
    `fleet: ${s.phones} phones (${s.phonesUp} up) for ${s.elapsedSec.toFixed(1)} s, ${s.callsPerHour} calls per phone per hour, seed ${s.seed}`,
    `requests: ${r.sent} sent, ${r.ok} ok, ${r.failed} failed${r.dropped ? `, ${r.dropped} dropped` : ''}, ${r.perSecond}/s`,
    `latency: p50 ${s.latencyMs.p50} ms  p95 ${s.latencyMs.p95} ms  p99 ${s.latencyMs.p99} ms  max ${s.latencyMs.max} ms`,
    `wound down: ${s.callsWoundDown} call${s.callsWoundDown === 1 ? '' : 's'} still up at the end hung up, so no phone is left in a call`,
    'incidents:',
    table(Object.entries(s.incidents).map(([k, v]) => [`  ${k}`, String(v)])),
  ];
  if (Object.keys(s.failures).length) {
    out.push('failures:', table(Object.entries(s.failures).map(([k, v]) => [`  ${k}`, String(v)])));
  }
  out.push(`same traffic again: --seed ${s.seed}`);
  return out.join('\n');
}

export function registerFleetCommand(program: Command): void {
  program
    .command('fleet')
    .description('many virtual phones with realistic traffic against a receiver; progress, then a summary')
    .option('--target <url>', 'the receiver\'s base URL, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'the receiver\'s shared secret')
    .option('--phones <n>', 'number of phones', intArg(1, 1_000_000), 10)
    .option('--duration <seconds>', 'how long to run', numberArg(0.1, 7 * 24 * 3600), 60)
    .option('--calls-per-hour <r>', 'calls per phone per hour (Poisson arrivals)', numberArg(0, 1_000_000), DEFAULT_CALLS_PER_HOUR)
    .option('--seed <seed>', 'reproduce a run\'s traffic (printed in the summary)')
    .option('--concurrency <c>', 'requests in flight across the fleet', intArg(1, 100_000), 256)
    .option('--ramp <seconds>', 'spread the phones\' boot over this long (default: a tenth of the run, at most 10)', numberArg(0, 3600))
    .option('--talk <seconds>', 'mean talk time (default: scaled to the call rate, at most 120)', numberArg(0.001, 86_400))
    .addOption(new Option('--mode <mode>', 'phone: values raw, as firmware sends them; safe: percent-encoded').choices(EXPAND_MODES).default('phone'))
    .option('--timeout <ms>', 'request timeout', intArg(1, 600_000), 5000)
    .option('--mac-offset <n>', 'first MAC is 00:15:65 plus this (run several fleets side by side)', intArg(0, 0xffffff), 0)
    .option('--ca <file>', 'extra CA certificate (PEM) for HTTPS receivers')
    .option('--insecure', 'accept any HTTPS certificate')
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress line')
    .action(async (o: FleetCliOptions) => {
      if (!o.target) throw new UsageError('--target is required, e.g. --target http://127.0.0.1:8080');
      try {
        normalizeServerUrl(o.target);
      } catch (err) {
        throw new UsageError(`--target: ${(err as Error).message}`);
      }
      const ca = o.ca ? readFileOption(o.ca, '--ca') : undefined;
      const tty = process.stderr.isTTY;
      let ticks = 0;
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const summary = await runFleet({
        target: o.target,
        ...(o.token ? { token: o.token } : {}),
        phones: o.phones,
        durationSec: o.duration,
        callsPerHour: o.callsPerHour,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        concurrency: o.concurrency,
        ...(o.ramp !== undefined ? { rampSec: o.ramp } : {}),
        ...(o.talk !== undefined ? { talkSec: o.talk } : {}),
        mode: o.mode,
        timeoutMs: o.timeout,
        macBase: o.macOffset,
        ...(ca ? { ca } : {}),
        insecure: Boolean(o.insecure),
        signal: abort.signal,
        onProgress: (p) => {
          if (o.quiet) return;
          // A terminal gets one line rewritten in place; a log file a line every five seconds.
          if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
          else if (ticks++ % 5 === 0) process.stderr.write(`${progressLine(p)}\n`);
        },
      });
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (tty && !o.quiet) process.stderr.write('\n');
      await print(o.json ? JSON.stringify(summary, null, 2) : summaryText(summary));
      // Nothing reached the receiver: say so in the exit code, so scripts notice a wrong --target.
      if (summary.requests.sent > 0 && summary.requests.ok === 0) process.exitCode = 1;
    });
}
