/**
 * The phone inventory: what the administrator says about each phone (a name, a location, groups), kept apart
 * from what phones report about themselves. In memory for the API, the dashboard and group filters; stored
 * through the store (`WriteBatch.inventory`). Checking and CSV import/export are pure functions here.
 */
import { normalizeMac } from '../core/mac.ts';
import type { InventoryEntry } from '../store/types.ts';
import { csvLine, parseCsv, type CsvRecord } from './csv.ts';

export const MAX_NAME = 100;
export const MAX_LOCATION = 100;
export const MAX_GROUP = 50;
export const MAX_GROUPS = 20;
/** Groups in a CSV cell are separated by `;` (a comma would need quoting in every spreadsheet). */
export const GROUP_SEPARATOR = ';';

// Control characters would corrupt CSV lines and logs; names are for people.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export class Inventory {
  private readonly byMac = new Map<string, InventoryEntry>();

  get(mac: string): InventoryEntry | undefined {
    return this.byMac.get(mac);
  }

  set(entry: InventoryEntry): void {
    this.byMac.set(entry.mac, entry);
  }

  delete(mac: string): void {
    this.byMac.delete(mac);
  }

  /** Every entry, by MAC. */
  all(): InventoryEntry[] {
    return [...this.byMac.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  /** Every group name in use, sorted. */
  groups(): string[] {
    const names = new Set<string>();
    for (const e of this.byMac.values()) for (const g of e.groups) names.add(g);
    return [...names].sort((a, b) => a.localeCompare(b));
  }

  /** The MACs of a group's phones (an unknown group has none). Names compare exactly. */
  macsIn(group: string): string[] {
    const macs: string[] = [];
    for (const e of this.byMac.values()) if (e.groups.includes(group)) macs.push(e.mac);
    return macs.sort();
  }
}

/** An empty entry for a phone the inventory does not know yet. */
export function blankEntry(mac: string): InventoryEntry {
  return { mac, name: '', location: '', groups: [] };
}

/** A value the administrator must correct; the message is one line naming the field. */
export class InventoryError extends Error {}

function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new InventoryError(`${field} must be text`);
  const text = value.trim();
  if (text.length > max) throw new InventoryError(`${field} is longer than ${max} characters`);
  if (CONTROL.test(text)) throw new InventoryError(`${field} contains a control character (a line break or tab)`);
  return text;
}

/** Group names, trimmed, without empty ones and duplicates, in the order given. */
export function checkGroups(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(GROUP_SEPARATOR) : value;
  if (!Array.isArray(list)) throw new InventoryError('groups must be a list of names');
  const out: string[] = [];
  for (const item of list) {
    const name = checkText(item, 'a group name', MAX_GROUP);
    if (name.includes(GROUP_SEPARATOR)) throw new InventoryError(`group "${name}" contains "${GROUP_SEPARATOR}"`);
    if (name !== '' && !out.includes(name)) out.push(name);
  }
  if (out.length > MAX_GROUPS) throw new InventoryError(`a phone may be in at most ${MAX_GROUPS} groups`);
  return out;
}

/**
 * Applies a PATCH body (`{name?, location?, groups?}`) to an entry. Fields not given keep their value; any
 * other field is refused, so a typo does not pass silently.
 */
export function patchEntry(current: InventoryEntry, body: unknown): InventoryEntry {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InventoryError('expected a JSON object like {"name": "Reception", "location": "Floor 1", "groups": ["front desk"]}');
  }
  const next = { ...current, groups: [...current.groups] };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'name') next.name = checkText(value, 'name', MAX_NAME);
    else if (key === 'location') next.location = checkText(value, 'location', MAX_LOCATION);
    else if (key === 'groups') next.groups = checkGroups(value);
    else throw new InventoryError(`unknown field "${key}" (expected name, location, groups)`);
  }
  return next;
}

export const INVENTORY_CSV_HEADER = ['mac', 'name', 'location', 'groups'] as const;

/** The inventory as CSV: a header line, then one line per entry (groups joined with `;`). */
export function inventoryCsv(entries: readonly InventoryEntry[]): string {
  return csvLine(INVENTORY_CSV_HEADER) + entries.map((e) => csvLine([e.mac, e.name, e.location, e.groups.join(GROUP_SEPARATOR)])).join('');
}

/**
 * An import's optional column: the phone's approved remote-control address. Kept apart from the inventory
 * (it is the control settings'); an empty cell changes nothing.
 */
export const CONTROL_URL_COLUMN = 'control_url';

/** A control address an import gives, with its line for messages. */
export interface ImportedControlUrl {
  line: number;
  mac: string;
  url: string;
}

/** What an import found: entries (and control addresses) to store, or the problems (each one line, with its line number). */
export type ImportResult =
  | { entries: InventoryEntry[]; controlUrls: ImportedControlUrl[]; problems: [] }
  | { entries: []; controlUrls: []; problems: string[] };

/**
 * Reads an inventory CSV. Columns by the header line (`mac,name,location,groups`, and `control_url`, any order
 * and case; mac is required, missing columns keep the stored value), or without a header line in that order.
 * MACs in any spelling. A file with any bad line imports nothing.
 */
export function parseInventoryCsv(text: string, current: (mac: string) => InventoryEntry | undefined): ImportResult {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    return { entries: [], controlUrls: [], problems: [(err as Error).message] };
  }
  if (records.length === 0) return { entries: [], controlUrls: [], problems: ['the file has no lines'] };
  let columns: string[] = [...INVENTORY_CSV_HEADER];
  const first = records[0].cells.map((c) => c.trim().toLowerCase());
  if (normalizeMac(first[0] ?? '') === undefined && first.includes('mac')) {
    const unknown = first.filter((c) => c !== '' && c !== CONTROL_URL_COLUMN && !(INVENTORY_CSV_HEADER as readonly string[]).includes(c));
    if (unknown.length) {
      return { entries: [], controlUrls: [], problems: [`line 1: unknown column "${unknown[0]}" (expected mac, name, location, groups, ${CONTROL_URL_COLUMN})`] };
    }
    columns = first;
    records = records.slice(1);
  }
  const problems: string[] = [];
  const byMac = new Map<string, InventoryEntry>();
  const controlUrls: ImportedControlUrl[] = [];
  for (const { line, cells } of records) {
    const row: Record<string, string> = {};
    columns.forEach((name, i) => {
      if (name !== '' && i < cells.length) row[name] = cells[i];
    });
    if (cells.length > columns.length && cells.slice(columns.length).some((c) => c.trim() !== '')) {
      problems.push(`line ${line}: more fields than columns (${columns.length})`);
      continue;
    }
    const mac = normalizeMac((row.mac ?? '').trim());
    if (!mac) {
      problems.push(`line ${line}: "${(row.mac ?? '').slice(0, 40)}" is not a MAC address`);
      continue;
    }
    if (byMac.has(mac)) {
      problems.push(`line ${line}: ${mac} is listed twice`);
      continue;
    }
    const patch: Record<string, unknown> = {};
    for (const key of ['name', 'location', 'groups'] as const) if (key in row) patch[key] = row[key];
    try {
      byMac.set(mac, patchEntry(current(mac) ?? blankEntry(mac), patch));
    } catch (err) {
      problems.push(`line ${line}: ${(err as Error).message}`);
    }
    const url = row[CONTROL_URL_COLUMN]?.trim();
    if (url) controlUrls.push({ line, mac, url });
  }
  return problems.length ? { entries: [], controlUrls: [], problems } : { entries: [...byMac.values()], controlUrls, problems: [] };
}
