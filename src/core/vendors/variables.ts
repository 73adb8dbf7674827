/**
 * How each vendor spells the Action URL variables. Yealink, Akuvox and Fanvil take the seed's names (their
 * catalog aliases, like Yealink's `$callerID`, are extra spellings). Snom and Grandstream have their own for
 * some (`$phone_ip`, `$call-id`, Grandstream `$product`): a URL written with the seed's `$ip` would reach
 * the server with a literal "$ip" from those phones, so generated and converted URLs use the phone's spelling.
 */
import { getVariable, VARIABLES, type Variable } from '../catalog.ts';
import { findTokens } from '../tokens.ts';
import type { VendorId } from './types.ts';

const SEED_SPELLING_VENDORS: readonly VendorId[] = ['yealink', 'akuvox', 'fanvil'];

/** The spelling (without `$`) a vendor's phones substitute for a variable. */
export function variableSpelling(variable: Variable, vendor: VendorId): string {
  if (SEED_SPELLING_VENDORS.includes(vendor)) return variable.name;
  return variable.aliases.find((a) => a.vendors.includes(vendor))?.spelling ?? variable.name;
}

/** Spellings (without `$`) that a vendor's phones substitute. */
function understoodBy(vendor: VendorId): Set<string> {
  const out = new Set<string>();
  for (const v of VARIABLES) {
    const own = v.aliases.filter((a) => a.vendors.includes(vendor)).map((a) => a.spelling);
    out.add(variableSpelling(v, vendor));
    for (const s of own) out.add(s);
  }
  return out;
}

/**
 * `url` with every variable the target's phones would not substitute rewritten to their spelling
 * (`$ip` -> `$phone_ip` for Snom). Returns the rewrites made, as `$from -> $to`.
 */
export function respellVariables(url: string, target: VendorId): { url: string; changes: string[] } {
  const understood = understoodBy(target);
  const changes: string[] = [];
  let out = '';
  let from = 0;
  // findTokens matches as phones do (longest known spelling first), so `$active_user` is never `$active_u`+"ser".
  for (const token of findTokens(url)) {
    if (!token.known || !token.variable || understood.has(token.known)) continue;
    const to = variableSpelling(getVariable(token.variable)!, target);
    changes.push(`$${token.known} -> $${to}`);
    out += `${url.slice(from, token.index)}$${to}`;
    from = token.index + 1 + token.known.length;
  }
  return { url: out + url.slice(from), changes };
}
