/**
 * A known set of calls for report tests: played into a receiver through its ingest path with a test clock
 * (so every ring and talk time is exact), and the report figures computed from the plan itself, by simple
 * arithmetic that shares nothing with the receiver's code.
 */
export interface PlannedCall {
  mac: string;
  /** `user@host` the call is on. */
  account: string;
  direction: 'incoming' | 'outgoing';
  /** Epoch ms. */
  start: number;
  /** Seconds until answered (or until it ended unanswered). */
  ring: number;
  /** Seconds of talk; null: not answered. */
  talk: number | null;
  /** How an unanswered incoming call ends. */
  unanswered?: 'missed' | 'rejected';
  displayRemote: string;
}

/** 2026-11-02 is a Monday; 00:00 UTC. */
export const MONDAY = Date.UTC(2026, 10, 2);
const H = 3_600_000;

/** A small site: three phones, calls over two days at known hours. Phone 3 has a hostile caller name. */
export function samplePlan(macs: [string, string, string]): PlannedCall[] {
  const [a, b, c] = macs;
  const call = (mac: string, account: string, direction: PlannedCall['direction'], start: number, ring: number, talk: number | null, extra: Partial<PlannedCall> = {}): PlannedCall =>
    ({ mac, account, direction, start, ring, talk, displayRemote: 'Caller', ...extra });
  return [
    call(a, '201@pbx.example.com', 'incoming', MONDAY + 9 * H, 4, 60),
    call(a, '201@pbx.example.com', 'incoming', MONDAY + 9 * H + 600_000, 25, 30),
    call(a, '201@pbx.example.com', 'incoming', MONDAY + 10 * H, 18, null, { unanswered: 'missed' }),
    call(a, '201@pbx.example.com', 'outgoing', MONDAY + 11 * H, 6, 120),
    call(b, '202@pbx.example.com', 'incoming', MONDAY + 9 * H + 1_200_000, 12, 45),
    call(b, '202@pbx.example.com', 'incoming', MONDAY + 14 * H, 9, null, { unanswered: 'rejected' }),
    call(b, '202@pbx.example.com', 'incoming', MONDAY + 26 * H, 30, null, { unanswered: 'missed' }),
    call(b, '202@pbx.example.com', 'outgoing', MONDAY + 27 * H, 15, null),
    call(c, '203@pbx.example.com', 'incoming', MONDAY + 33 * H, 2, 300, { displayRemote: '=HYPERLINK("http://evil")' }),
    call(c, '203@pbx.example.com', 'incoming', MONDAY + 33 * H + 900_000, 40, 10),
  ];
}

export interface PlannedEvent {
  at: number;
  mac: string;
  incident: string;
  vars: Record<string, string>;
}

/** The incidents a phone fires for each call, in time order over all calls. */
export function planEvents(plan: readonly PlannedCall[]): PlannedEvent[] {
  const out: PlannedEvent[] = [];
  plan.forEach((p, i) => {
    const vars = {
      call_id: String(100 + i),
      remote: `sip:${300 + i}@pbx.example.com`,
      display_remote: p.displayRemote,
      local: `sip:${p.account}`,
      active_url: `sip:${p.account}`,
    };
    const answerAt = p.start + p.ring * 1000;
    out.push({ at: p.start, mac: p.mac, incident: p.direction === 'incoming' ? 'incoming_call' : 'outgoing_call', vars });
    if (p.talk !== null) {
      out.push({ at: answerAt, mac: p.mac, incident: 'call_established', vars });
      out.push({ at: answerAt + p.talk * 1000, mac: p.mac, incident: 'call_terminated', vars });
    } else if (p.direction === 'incoming') {
      out.push({ at: answerAt, mac: p.mac, incident: p.unanswered === 'rejected' ? 'reject_incoming_call' : 'missed_call', vars });
    } else {
      out.push({ at: answerAt, mac: p.mac, incident: 'call_terminated', vars });
    }
  });
  return out.sort((x, y) => x.at - y.at);
}

/** The figures a report must show for these calls (see docs/api.md, "Reports"). */
export function expectedFigures(calls: readonly PlannedCall[], sl: number) {
  const incoming = calls.filter((c) => c.direction === 'incoming');
  const outgoing = calls.filter((c) => c.direction === 'outgoing');
  const answeredIn = incoming.filter((c) => c.talk !== null);
  return {
    calls: calls.length,
    calls_in: incoming.length,
    calls_out: outgoing.length,
    answered_in: answeredIn.length,
    answered_out: outgoing.filter((c) => c.talk !== null).length,
    missed: incoming.filter((c) => c.talk === null && c.unanswered === 'missed').length,
    rejected: incoming.filter((c) => c.talk === null && c.unanswered === 'rejected').length,
    forwarded: 0,
    answer_rate: incoming.length ? answeredIn.length / incoming.length : null,
    average_ring_seconds: answeredIn.length ? answeredIn.reduce((s, c) => s + c.ring, 0) / answeredIn.length : null,
    service_level: incoming.length ? answeredIn.filter((c) => c.ring <= sl).length / incoming.length : null,
    talk_seconds: calls.reduce((s, c) => s + (c.talk ?? 0), 0),
  };
}
