/**
 * The soak benchmark's traffic, in a process of its own (so its work does not count as the receiver's):
 * at a fixed rate, for a fixed time, a mix of realistic phones (call flows of a fleet), broken phones
 * (incoming calls with new ids that never end) and a flood of new MACs. Prints one JSON line of counts.
 *
 *   node --import tsx bench/soak-traffic.ts <port> <requests per second> <seconds>
 */
import http from 'node:http';

const [port, rate, seconds] = process.argv.slice(2).map(Number);
const FLOW = ['incoming_call', 'call_established', 'hold', 'unhold', 'call_terminated', 'busy_to_idle', 'dnd_on', 'dnd_off', 'registered'];
const NAMES = ['J%C3%B6rg%20M%C3%BCller', 'Ann%20Lee', 'Zo%C3%AB%20Salda%C3%B1a', 'Front%20Desk%202'];
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const counts = { sent: 0, ok: 0, other: 0, errors: 0 };
const rounds = new Map<number, number>();
let brokenCall = 0;
let newMac = 0;

function target(i: number): string {
  const kind = i % 10;
  if (kind < 7) {
    // A realistic phone of the seeded fleet, going through its call flow.
    const phone = 1 + ((i * 7919) % 4999);
    const r = rounds.get(phone) ?? 0;
    rounds.set(phone, r + 1);
    const mac = (0x001565000000 + phone).toString(16).padStart(12, '0');
    const callId = Math.floor(r / FLOW.length) + 1;
    return `/actionurl/${FLOW[r % FLOW.length]}?mac=${mac}&model=SIP-T46S&remote=sip:${2000 + callId}@pbx&display_remote=${NAMES[phone % NAMES.length]}&call_id=${callId}`;
  }
  if (kind < 9) {
    // A broken phone: a new incoming call every time, none ever ends.
    const mac = (0x001566000000 + (i % 200)).toString(16).padStart(12, '0');
    return `/actionurl/incoming_call?mac=${mac}&call_id=broken-${brokenCall++}&remote=sip:${brokenCall}@x&display_remote=${'X'.repeat(200)}`;
  }
  // Someone sending as ever new phones.
  const mac = (0x001567000000 + newMac++).toString(16).padStart(12, '0');
  return `/actionurl/registered?mac=${mac}`;
}

function send(i: number): void {
  counts.sent++;
  const req = http.get({ host: '127.0.0.1', port, path: target(i), agent }, (res) => {
    if (res.statusCode === 200) counts.ok++;
    else counts.other++;
    res.resume();
  });
  req.on('error', () => counts.errors++);
}

const started = performance.now();
let i = 0;
const timer = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 1000) * rate);
  while (i < due) send(i++);
  if (performance.now() - started >= seconds * 1000) {
    clearInterval(timer);
    // Wait for every answer (at most a minute), so the reads that follow do not meet a backlog.
    const until = performance.now() + 60_000;
    const done = setInterval(() => {
      if (counts.ok + counts.other + counts.errors < counts.sent && performance.now() < until) return;
      clearInterval(done);
      process.stdout.write(`${JSON.stringify({ ...counts, unanswered: counts.sent - counts.ok - counts.other - counts.errors })}\n`);
      agent.destroy();
    }, 100);
  }
}, 5);
