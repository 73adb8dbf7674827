/**
 * Reading a `Cookie` request header: used by the dashboard's sign-in and the virtual phone's web page.
 */

/**
 * Values of a cookie in a `Cookie` header, in order (a name may appear more than once, e.g. set from two
 * paths). Surrounding spaces and one pair of double quotes around a value are removed.
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    out.push(value);
  }
  return out;
}
