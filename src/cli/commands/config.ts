/**
 * `actionurl config generate | convert | check`: phone config files that point phones at the receiver,
 * conversion between vendors, and a reader's view of an existing file.
 *
 * The file itself goes to stdout (or --out); everything the user must know about it (incidents the vendor
 * lacks, lines that could not be used) goes to stderr, so `> file` captures a clean config.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ingestConfig, normalizeServerUrl } from '../../core/ingest-url.ts';
import { normalizeMac } from '../../core/mac.ts';
import { ingestTokenFor } from '../../core/phone-token.ts';
import { lint } from '../../core/templates.ts';
import {
  convertConfigFile, getVendorCodec, isVendorId, renderConfigFile, supportedIncidents, VENDOR_IDS, vendorsForFileName,
  type ReadResult, type RenderedConfig, type VendorCodec, type VendorId,
} from '../../core/vendors/index.ts';
import { readFileOption } from '../options.ts';
import { UsageError } from '../errors.ts';
import { print } from '../output.ts';

const note = (text: string) => process.stderr.write(`note: ${text}\n`);

/** `--vendor`, `--from`, `--to`: any case, surrounding spaces ignored. */
function vendorArg(value: string): VendorId {
  const id = value.trim().toLowerCase();
  if (!isVendorId(id)) throw new InvalidArgumentError(`Expected one of ${VENDOR_IDS.join(', ')}.`);
  return id;
}

function vendorOption(value: VendorId | undefined, flag: string): VendorCodec {
  if (value === undefined) throw new UsageError(`${flag} is required (one of ${VENDOR_IDS.join(', ')})`);
  return getVendorCodec(value);
}

function macOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const mac = normalizeMac(value);
  if (!mac) throw new UsageError(`--mac "${value}" is not a MAC address; expected 12 hex digits such as 00:15:65:AA:BB:CC`);
  return mac;
}

function formatOption(value: string | undefined, codec: VendorCodec): string | undefined {
  if (value === undefined) return undefined;
  if (codec.formats.length < 2) throw new UsageError(`--format applies to grandstream only; ${codec.id} has one format`);
  if (!codec.formats.includes(value)) {
    throw new UsageError(`--format "${value}" is not a ${codec.label} format; expected ${codec.formats.join(' or ')}`);
  }
  return value;
}

function lackingNote(codec: VendorCodec, lacking: string[]): void {
  if (lacking.length === 0) return;
  note(`${codec.label} phones have no setting for ${lacking.length} incident${lacking.length > 1 ? 's' : ''}, left out: ${lacking.join(', ')}`);
}

/** Writes the rendered file to stdout, or to --out (a file, or a directory that gets the vendor's file name). */
async function emit(rendered: RenderedConfig, codec: VendorCodec, out: string | undefined): Promise<void> {
  if (out === undefined) {
    // Every writer ends its file with a newline, so print adds nothing and the bytes (Fanvil's CRLF) are exact.
    await print(rendered.text);
    return;
  }
  let path = out;
  const isDir = /[/\\]$/.test(out) || (existsSync(out) && statSync(out).isDirectory());
  if (isDir) {
    if (!rendered.fileName) {
      throw new UsageError(`${codec.label} phones have no common config file name; give --mac, or a file path for --out`);
    }
    mkdirSync(out, { recursive: true });
    path = join(out, rendered.fileName);
  }
  try {
    writeFileSync(path, rendered.text);
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as Error).message}`);
  }
  await print(`wrote ${path}`);
}

function readInput(file: string): string {
  // Config files are UTF-8 (or ASCII); a stray byte becomes U+FFFD and shows in the report rather than failing.
  return new TextDecoder('utf-8').decode(readFileOption(file, 'config file'));
}

function reportRead(file: string, read: ReadResult): void {
  for (const u of read.unused) process.stderr.write(`${file}:${u.line}: ${u.reason}: ${u.text}\n`);
  for (const n of read.notes) process.stderr.write(`${file}: note: ${n}\n`);
}

export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('phone config files for Action URL: generate, convert between vendors, check');

  config
    .command('generate')
    .description('print (or write) the config file that points a phone of a vendor at the receiver')
    .option('--vendor <vendor>', `phone vendor: ${VENDOR_IDS.join(', ')}`, vendorArg)
    .option('--server <url>', 'the receiver\'s base URL, e.g. http://192.168.1.10:8080')
    .option('--mac <mac>', 'the phone\'s MAC (any spelling); names the file and, for Grandstream, goes inside it')
    .option('--token <token>', 'shared secret the receiver checks, sent as token=<T>')
    .addOption(new Option('--token-secret <secret>', 'the receiver\'s --token-secret: writes this phone\'s own token (needs --mac)').conflicts('token'))
    .option('--format <format>', 'Grandstream only: v1 (P-codes, default) or v2 (aliases)')
    .option('--out <path>', 'write to this file, or into this directory under the phone\'s file name')
    .action(async (opts: { vendor?: VendorId; server?: string; mac?: string; token?: string; tokenSecret?: string; format?: string; out?: string }) => {
      const codec = vendorOption(opts.vendor, '--vendor');
      if (opts.server === undefined) throw new UsageError('--server is required, e.g. --server http://192.168.1.10:8080');
      let server: string;
      try {
        server = normalizeServerUrl(opts.server);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (opts.token === '') throw new UsageError('--token must not be empty');
      if (opts.tokenSecret === '') throw new UsageError('--token-secret must not be empty');
      const mac = macOption(opts.mac);
      if (opts.tokenSecret !== undefined && mac === undefined) {
        throw new UsageError('--token-secret needs --mac: each phone\'s token is derived from its MAC (or give the shared --token)');
      }
      const token = ingestTokenFor(opts, mac);
      const format = formatOption(opts.format, codec);
      const cfg = ingestConfig(server, { vendor: codec.id, ...(token ? { token } : {}) });
      const rendered = renderConfigFile(codec.id, cfg, { ...(mac ? { mac } : {}), ...(format ? { format } : {}) });
      lackingNote(codec, rendered.lacking);
      for (const n of rendered.notes) note(n);
      await emit(rendered, codec, opts.out);
    });

  config
    .command('convert')
    .description('convert a phone config file from one vendor\'s format to another\'s')
    .argument('<file>', 'the config file to read')
    .option('--from <vendor>', `vendor of the input file: ${VENDOR_IDS.join(', ')}`, vendorArg)
    .option('--to <vendor>', 'vendor to write for', vendorArg)
    .option('--mac <mac>', 'the phone\'s MAC, for the file name (default: from the input file or its name)')
    .option('--format <format>', 'Grandstream only: v1 (P-codes, default) or v2 (aliases)')
    .option('--out <path>', 'write to this file, or into this directory under the phone\'s file name')
    .action(async (file: string, opts: { from?: VendorId; to?: VendorId; mac?: string; format?: string; out?: string }) => {
      const from = vendorOption(opts.from, '--from');
      const to = vendorOption(opts.to, '--to');
      const format = formatOption(opts.format, to);
      const mac = macOption(opts.mac) ?? vendorsForFileName(basename(file)).find((m) => m.vendor === from.id)?.mac;
      const { read, rendered } = convertConfigFile(readInput(file), from.id, to.id, {
        ...(mac ? { mac } : {}), ...(format ? { format } : {}),
      });
      if (read.error || !rendered) {
        process.stderr.write(`actionurl: ${file}: ${read.error}\n`);
        process.exitCode = 1;
        return;
      }
      reportRead(file, read);
      lackingNote(to, rendered.lacking);
      for (const n of rendered.notes) note(n);
      await emit(rendered, to, opts.out);
    });

  config
    .command('check')
    .description('read a phone config file and report what a phone would take from it; exit 1 on errors')
    .argument('<file>', 'the config file to read')
    .option('--vendor <vendor>', `vendor of the file: ${VENDOR_IDS.join(', ')}`, vendorArg)
    .option('--json', 'print the reader\'s result as JSON')
    .action(async (file: string, opts: { vendor?: VendorId; json?: boolean }) => {
      const codec = vendorOption(opts.vendor, '--vendor');
      const read = codec.read(readInput(file));
      const urlProblems = Object.entries(read.config.urls).flatMap(([slug, url]) => {
        const result = lint(url, slug);
        return [...result.errors, ...result.warnings].map((p) => ({ slug, severity: p.severity, message: p.message }));
      });
      const failed = Boolean(read.error) || read.unused.length > 0 || urlProblems.some((p) => p.severity === 'error');
      if (failed) process.exitCode = 1;
      if (opts.json) {
        await print(JSON.stringify({ vendor: codec.id, ...read, urlProblems }, null, 2));
        return;
      }
      await print(describe(file, codec.id, read, urlProblems));
    });
}

function describe(
  file: string,
  vendor: VendorId,
  read: ReadResult,
  urlProblems: { slug: string; severity: string; message: string }[],
): string {
  const codec = getVendorCodec(vendor);
  if (read.error) return `${file}: ${read.error}`;
  const set = Object.keys(read.config.urls);
  const out = [
    `${file}: ${codec.label} config${read.format ? ` (${read.format})` : ''}`,
    `  Action URL: ${read.config.enabled ? 'on' : 'off'}${codec.hasMasterSwitch ? '' : ' (no on/off switch on these phones: on when any URL is set)'}`,
    `  incidents with a URL: ${set.length} of ${supportedIncidents(codec).length}${set.length ? `: ${set.join(', ')}` : ''}`,
  ];
  if (read.missing.length) out.push(`  no URL for: ${read.missing.join(', ')}`);
  if (read.mac) out.push(`  MAC in the file: ${read.mac}`);
  if (read.otherSettings) out.push(`  other settings (ignored): ${read.otherSettings}`);
  out.push(read.unused.length ? `  lines that could not be used: ${read.unused.length}` : '  every Action URL line could be used');
  for (const u of read.unused) out.push(`    line ${u.line}: ${u.reason}: ${u.text}`);
  for (const p of urlProblems) out.push(`  ${p.slug}: ${p.severity}: ${p.message}`);
  for (const n of read.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}
