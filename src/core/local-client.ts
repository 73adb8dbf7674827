/**
 * Whether a request comes from this machine, for the receiver's default access rule (clients on this machine
 * see the dashboard and API without the admin token). Used by the API guard and the dashboard alike.
 */

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms arrive without `::ffff:`). */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * A client on this machine: a loopback peer that is not a proxy passing on someone else's request (a reverse
 * proxy on the same host connects from loopback for every client it serves, and says so in these headers).
 */
export function isLocalClient(req: { remoteAddress: string; headers: Readonly<Record<string, string>> }): boolean {
  if (!isLoopbackAddress(req.remoteAddress)) return false;
  const h = req.headers;
  return h['x-forwarded-for'] === undefined && h['forwarded'] === undefined && h['x-real-ip'] === undefined;
}
