/**
 * The soak benchmark's API reads, in a process of its own (so parsing the answers does not count as the
 * receiver's work): each read five times one after another, then the whole phones list paged through.
 * Prints one JSON line of results.
 *
 *   node --import tsx bench/soak-reads.ts <base url> <mac of the phone with a deep history>
 */
const [base, deepMac] = process.argv.slice(2);
const headers = { 'Accept-Encoding': 'br' };

async function timed(name: string, path: string) {
  const times: number[] = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const res = await fetch(`${base}${path}`, { headers });
    const body = await res.arrayBuffer();
    times.push(performance.now() - start);
    bytes = body.byteLength;
    status = res.status;
  }
  times.sort((a, b) => a - b);
  return { name, status, median: times[2], max: times[4], bytes };
}

const results = [
  await timed('phones, first page', '/api/v1/phones'),
  await timed('phone (8 calls max)', `/api/v1/phones/${deepMac}`),
  await timed('events, newest 100', '/api/v1/events?limit=100'),
  await timed('events since 1h', '/api/v1/events?since=1h&limit=100'),
  await timed('events until 15 days ago', '/api/v1/events?until=15d&limit=100'),
  await timed('events by incident', '/api/v1/events?incident=dnd_off&limit=100'),
  await timed('phone events, filtered, deep', `/api/v1/events?mac=${deepMac}&incident=call_established&limit=100`),
  await timed('phone events, no match (walks all)', `/api/v1/events?mac=${deepMac}&incident=transfer_failed&limit=100`),
  await timed('calls, newest 100', '/api/v1/calls?limit=100'),
];

// A phone's history paged 100 at a time with the `next` cursor, 20 pages deep.
const deepStart = performance.now();
let before: number | null = null;
let pages = 0;
for (; pages < 20; pages++) {
  const res = await fetch(`${base}/api/v1/events?mac=${deepMac}&limit=100${before ? `&before=${before}` : ''}`, { headers });
  const body = (await res.json()) as { next: number | null };
  before = body.next;
  if (before === null) break;
}
const deepPagesMs = performance.now() - deepStart;

let page = 0;
let listed = 0;
const allStart = performance.now();
for (let after: string | null = ''; after !== null; page++) {
  const res = await fetch(`${base}/api/v1/phones?limit=1000${after ? `&after=${after}` : ''}`, { headers });
  const body = (await res.json()) as { phones: unknown[]; next: string | null };
  listed += body.phones.length;
  after = body.next;
}
const allMs = performance.now() - allStart;
process.stdout.write(`${JSON.stringify({ results, deepPages: pages, deepPagesMs, listed, pages: page, allMs })}\n`);
