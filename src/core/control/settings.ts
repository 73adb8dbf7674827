/**
 * The phone settings that make a phone controllable from a server, per vendor: which lines `config generate`
 * adds to a config file, and which of them a virtual phone reads back from a loaded file. Vendors whose
 * config-file names for these settings are not documented get no line, and a note that says where to set
 * them on the phone's web page instead.
 */
import type { VendorId } from '../vendors/types.ts';
import { controlDialect } from './dialects.ts';

interface KeyValueSettings {
  readonly style: 'keyvalue';
  readonly enable?: string;
  readonly allow: string;
  /** Key of the prompt setting; the phone asks when it is 1. */
  readonly prompt?: string;
}

interface FanvilSettings {
  readonly style: 'fanvil';
  /** Key in `<CTI CONFIG MODULE>`. */
  readonly allow: string;
}

type ControlSettingKeys = KeyValueSettings | FanvilSettings | { readonly style: 'none'; readonly note: string };

const YEALINK_KEYS: KeyValueSettings = {
  style: 'keyvalue',
  enable: 'features.action_uri.enable',
  allow: 'features.action_uri_limit_ip',
  prompt: 'features.show_action_uri_option',
};

/** Akuvox desk phones are of the Yealink family and read the same keys. */
export const CONTROL_SETTING_KEYS: Readonly<Record<VendorId, ControlSettingKeys>> = {
  yealink: YEALINK_KEYS,
  akuvox: YEALINK_KEYS,
  // The key name follows the web page's "Active URI Limit IP" (unverified as a config-file key).
  fanvil: { style: 'fanvil', allow: 'Active Uri IP' },
  grandstream: {
    style: 'none',
    note: 'Grandstream: set "Action URI Support" = Yes, "Action URI Allowed IP List" = the server\'s address and "Remote Control Pop up Window Support" = No on the phone\'s web page (their P-codes are not documented, so no line is written)',
  },
  snom: {
    style: 'none',
    note: 'Snom: remote control needs only the web admin account; Snom phones have no documented allowlist setting',
  },
};

const FANVIL_KEY_WIDTH = 19;

/** The lines to add to a vendor's config file so `serverAddress` may control the phone without a prompt. */
export function controlSettingLines(vendor: VendorId, serverAddress: string): { lines: string[]; notes: string[] } {
  const keys = CONTROL_SETTING_KEYS[vendor];
  if (keys.style === 'none') return { lines: [], notes: [keys.note] };
  if (keys.style === 'fanvil') return { lines: [`${keys.allow.padEnd(FANVIL_KEY_WIDTH)}:${serverAddress}`], notes: [] };
  const lines = [
    ...(keys.enable ? [`${keys.enable} = 1`] : []),
    `${keys.allow} = ${serverAddress}`,
    ...(keys.prompt ? [`${keys.prompt} = 0`] : []),
  ];
  return { lines, notes: [] };
}

/** A config file (as `config generate` writes it) with the control settings added in the vendor's place. */
export function addControlSettings(vendor: VendorId, fileText: string, serverAddress: string): { text: string; notes: string[] } {
  const { lines, notes } = controlSettingLines(vendor, serverAddress);
  if (lines.length === 0) return { text: fileText, notes };
  const keys = CONTROL_SETTING_KEYS[vendor];
  if (keys.style === 'fanvil') {
    // Into the CTI module, right after its section line; Fanvil files use CRLF.
    const marker = '<CTI CONFIG MODULE>\r\n';
    const at = fileText.indexOf(marker);
    if (at === -1) return { text: fileText, notes: [...notes, 'no <CTI CONFIG MODULE> section to put the remote-control setting in'] };
    const end = at + marker.length;
    return { text: `${fileText.slice(0, end)}${lines.join('\r\n')}\r\n${fileText.slice(end)}`, notes };
  }
  const sep = fileText.endsWith('\n') || fileText === '' ? '' : '\n';
  return { text: `${fileText}${sep}# Remote control (Action URI) from the receiver\n${lines.join('\n')}\n`, notes };
}

export interface FileControlSettings {
  allow?: string;
  prompt?: boolean;
}

/** The control settings a config file holds, for a virtual phone loading it (absent: the file does not say). */
export function readControlSettings(vendor: VendorId, text: string): FileControlSettings {
  const keys = CONTROL_SETTING_KEYS[vendor];
  const out: FileControlSettings = {};
  if (keys.style === 'none') return out;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    const m = keys.style === 'fanvil' ? /^([^:]+?)\s*:(.*)$/.exec(line) : /^([\w.]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === keys.allow) out.allow = value.trim();
    else if (keys.style === 'keyvalue' && key === keys.prompt) out.prompt = value.trim() !== '0';
  }
  return out;
}

/** Where a vendor's allowlist lives, for messages. */
export function allowSettingName(vendor: VendorId): string {
  return controlDialect(vendor).settings.allow;
}
