/**
 * The shared shape of every vendor config-file codec.
 *
 * A codec turns an ActionUrlConfig (the seed's "Active: Enabled" switch plus one URL per incident) into the
 * file a phone of that vendor accepts, and reads such a file back. Which incidents a vendor has, and under
 * which key, comes from the catalog (src/core/catalog.ts); codecs never spell an incident key themselves.
 */
import type { Vendor } from '../catalog.ts';

export type VendorId = Vendor;

/** What a phone's Action URL page holds: the master switch and the URLs that are set (slug -> URL template). */
export interface ActionUrlConfig {
  enabled: boolean;
  /** Only incidents that have a URL; keys are catalog slugs. */
  urls: Record<string, string>;
}

/** A line of the input a reader could not use, with the reason. `line` is 1-based. */
export interface UnusedLine {
  line: number;
  text: string;
  reason: string;
}

export interface ReadResult {
  config: ActionUrlConfig;
  /** Lines that say something about Action URL (or are broken) but could not be used. Never silently dropped. */
  unused: UnusedLine[];
  /** Incidents this vendor supports that the file has no URL for, in catalog order. */
  missing: string[];
  /** Observations that are not errors (no master switch in the file, header missing, ...). */
  notes: string[];
  /** Settings of the phone that have nothing to do with Action URL; counted, not reported line by line. */
  otherSettings: number;
  /** Which variant of the format was read, when a vendor has several (Grandstream `v1` / `v2`). */
  format?: string;
  /** The MAC the file names inside itself (Grandstream `<mac>`), 12 lowercase hex digits. */
  mac?: string;
  /** Set when the text is not this vendor's format at all; `config` is then empty. */
  error?: string;
}

export interface WriteOptions {
  /** The phone's MAC (any spelling); some formats carry it inside the file (Grandstream `<mac>`). */
  mac?: string;
  /** Format variant, for vendors that have several (Grandstream `v1` P-codes, `v2` aliases). */
  format?: string;
}

export interface VendorCodec {
  readonly id: VendorId;
  /** Human name ("Yealink"). */
  readonly label: string;
  /** True when the phone has an Action URL on/off switch (Akuvox, Fanvil); otherwise `enabled` maps to URLs. */
  readonly hasMasterSwitch: boolean;
  /** Format variants the writer accepts; the first is the default. */
  readonly formats: readonly string[];
  /** The vendor's key for an incident in a given format, or undefined when the vendor has no such setting. */
  keyFor(slug: string, format?: string): string | undefined;
  /**
   * The file name the phone asks its provisioning server for. Without a MAC: the file every phone of the
   * vendor reads (Yealink `y000000000000.cfg`), or undefined when the vendor has no such common file.
   */
  fileName(mac: string): string;
  fileName(mac?: string): string | undefined;
  /** If `name` is a file name this vendor's phones request, the MAC it carries (undefined for a common file). */
  matchFileName(name: string): { mac?: string } | undefined;
  /** Warnings about a format variant that every file written in it deserves (unconfirmed key names). */
  caveats?(format?: string): string[];
  /** The file text. Throws only for a config no phone could hold (a URL with a line break, an unknown format). */
  write(config: ActionUrlConfig, opts?: WriteOptions): string;
  /** Never throws; see ReadResult. */
  read(text: string): ReadResult;
}
