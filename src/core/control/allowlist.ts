/**
 * A phone's remote-control allowlist, as phones read it: empty refuses everyone, `any` lets everyone in,
 * otherwise a comma list of addresses where an IPv4 part may be `*` (Yealink) or `X`/`x` (Akuvox).
 */

export interface ControlAllowlist {
  readonly any: boolean;
  readonly entries: readonly string[];
}

export function parseControlAllowlist(text: string): ControlAllowlist | { error: string } {
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.some((e) => e.toLowerCase() === 'any')) return { any: true, entries: [] };
  for (const e of entries) {
    const v4 = e.split('.');
    const okV4 = v4.length === 4 && v4.every((p) => /^(\*|[xX]|\d{1,3})$/.test(p) && (!/^\d+$/.test(p) || Number(p) <= 255));
    const okV6 = e.includes(':') && /^[0-9a-fA-F:]+$/.test(e);
    if (!okV4 && !okV6) return { error: `"${e.slice(0, 60)}" is not an address, a pattern like 10.10.*.* or any` };
  }
  return { any: false, entries };
}

function partMatches(pattern: string, part: string): boolean {
  return pattern === '*' || pattern === 'x' || pattern === 'X' || Number(pattern) === Number(part);
}

export function allowsAddress(list: ControlAllowlist, address: string): boolean {
  if (list.any) return true;
  const addr = address.replace(/^::ffff:/i, '');
  const parts = addr.split('.');
  return list.entries.some((e) => {
    if (e.includes(':')) return e.toLowerCase() === addr.toLowerCase();
    const p = e.split('.');
    return parts.length === 4 && p.every((x, i) => partMatches(x, parts[i]));
  });
}

export function formatControlAllowlist(list: ControlAllowlist): string {
  return list.any ? 'any' : list.entries.join(',');
}
