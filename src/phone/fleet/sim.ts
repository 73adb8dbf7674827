/**
 * The fleet's users and callers, as a pure simulation: each phone's engine state, its own PRNG stream, and
 * one agenda of timed events for all phones. `runUntil(t)` plays everything due by time t and reports the
 * incidents each phone fired. No clocks or sockets here; the runner decides when t is.
 *
 * Traffic: Poisson call arrivals per phone, incoming and outgoing; answered (handset or speaker), missed,
 * rejected, far end busy or not answering; hold, mute and transfers inside calls; call waiting; DND and
 * forward switches; now and then an address change. Every action goes through the call engine, so the
 * incidents and their order are the engine's; an action the engine refuses (the situation moved on) is
 * simply not done.
 */
import { advance, initialState, nextDeadline, step, type Action, type FiredIncident, type HandsetState } from '../engine/index.ts';
import { buildIdentity, ipForMac, macForIndex, type PhoneIdentity } from '../settings/identity.ts';
import { Agenda } from './heap.ts';
import { DISPLAY_NAMES, EXTERNAL_PREFIXES } from './people.ts';
import { Rng } from './prng.ts';

export interface SimOptions {
  phones: number;
  /** Calls per phone per hour (incoming and outgoing together). */
  callsPerHour: number;
  seed: string;
  /** Spread of the phones' boot times, ms. */
  rampMs: number;
  /** Mean talk time, ms (default: scaled to the call rate, at most 2 minutes). */
  talkMs?: number;
  /** First MAC's offset in the 00:15:65 range. */
  macBase?: number;
}

type Kind =
  | 'boot' | 'register' | 'arrival' | 'ring_end' | 'waiting_end' | 'dial' | 'far_end' | 'end' | 'onhook' | 'hold' | 'unhold'
  | 'mute' | 'unmute' | 'transfer' | 'consult_answer' | 'consult_complete' | 'transfer_result' | 'dnd' | 'forward' | 'ip' | 'tick';

interface Event {
  at: number;
  seq: number;
  phone: number;
  kind: Kind;
  /** The call an event is about; the event is dropped once that call is gone. */
  call?: number;
  /** Small per-kind payload (outcome choice, forward kind). */
  arg?: string;
}

interface SimPhone {
  identity: PhoneIdentity;
  state: HandsetState;
  rng: Rng;
  tickAt: number;
}

export interface SimEmit {
  (phone: number, incidents: readonly FiredIncident[]): void;
}

const FORWARDS = ['always', 'busy', 'no_answer'] as const;

export class FleetSim {
  readonly phones: SimPhone[] = [];
  private readonly agenda = new Agenda<Event>();
  private seq = 0;
  private now = 0;
  /** Mean gap between one phone's calls, ms. */
  private readonly gap: number;
  private readonly talk: number;
  private readonly ring: number;
  /** Everyday pauses (dial digits, pick up after the far end hung up) scaled with the talk time. */
  private readonly unit: number;
  /** Actions the engine refused because the situation had moved on. */
  refused = 0;

  constructor(private readonly opts: SimOptions) {
    this.gap = 3_600_000 / Math.max(opts.callsPerHour, 1e-9);
    this.talk = opts.talkMs ?? Math.min(120_000, this.gap * 0.25);
    this.ring = Math.min(8_000, this.talk * 0.2);
    this.unit = Math.min(1, this.talk / 120_000);
    for (let i = 0; i < opts.phones; i++) {
      const mac = macForIndex(i, opts.macBase ?? 0);
      const rng = new Rng(`${opts.seed}/${i}`);
      const identity = buildIdentity({
        mac,
        ip: ipForMac(mac),
        accounts: [{ displayName: DISPLAY_NAMES[i % DISPLAY_NAMES.length] || `Desk ${i}` }],
      });
      const state = initialState({ device: identity, accounts: identity.accounts, noAnswerMs: Math.max(1, Math.round(this.ring * 3)) });
      this.phones.push({ identity, state, rng, tickAt: Infinity });
      this.schedule(i, (opts.rampMs * i) / Math.max(1, opts.phones) + rng.between(0, 50), 'boot');
    }
  }

  /** Time of the next event, or null when nothing is planned. */
  nextAt(): number | null {
    return this.agenda.peek()?.at ?? null;
  }

  /** Plays every event due at or before `t` (ms since the start), in time order. */
  runUntil(t: number, emit: SimEmit): void {
    for (let e = this.agenda.peek(); e && e.at <= t; e = this.agenda.peek()) {
      this.agenda.pop();
      this.now = e.at;
      this.handle(e, emit);
    }
    this.now = Math.max(this.now, t);
  }

  /**
   * The end of a run (or Ctrl-C): every caller gives up and every user hangs up, so no phone is left talking
   * or ringing on the receiver's board. Returns how many calls were ended. Nothing planned plays afterwards.
   */
  windDown(emit: SimEmit): number {
    let ended = 0;
    this.agenda.clear();
    for (let i = 0; i < this.phones.length; i++) {
      const p = this.phones[i];
      // Each action ends one call (a ringing one first: the user's keys act on it); a few calls at most.
      for (let tries = 0; tries < 8 && (p.state.calls.length > 0 || p.state.predial); tries++) {
        const before = p.state.calls.length;
        const ringing = p.state.calls.some((c) => c.phase === 'ringing');
        if (!(ringing && this.act(i, { do: 'remote_cancel' }, emit)) && !this.act(i, { do: 'hangup' }, emit)) break;
        ended += before - p.state.calls.length;
      }
      if (p.state.handset === 'off') this.act(i, { do: 'onhook' }, emit);
    }
    return ended;
  }

  private schedule(phone: number, at: number, kind: Kind, call?: number, arg?: string): void {
    this.agenda.push({ at, seq: this.seq++, phone, kind, ...(call !== undefined ? { call } : {}), ...(arg !== undefined ? { arg } : {}) });
  }

  private after(phone: number, delay: number, kind: Kind, call?: number, arg?: string): void {
    this.schedule(phone, this.now + Math.max(1, delay), kind, call, arg);
  }

  /** Runs an action on a phone's engine; false when the engine refused it. */
  private act(i: number, action: Action, emit: SimEmit): boolean {
    const p = this.phones[i];
    const ticked = advance(p.state, this.now);
    if (ticked.incidents.length) emit(i, ticked.incidents);
    const r = step(ticked.state, action, this.now);
    if ('error' in r) {
      p.state = ticked.state;
      this.refused++;
      return false;
    }
    p.state = r.state;
    if (r.incidents.length) emit(i, r.incidents);
    const due = nextDeadline(p.state);
    if (due !== null && due !== p.tickAt) {
      p.tickAt = due;
      this.schedule(i, due, 'tick');
    }
    return true;
  }

  private newestCall(i: number): number | undefined {
    const calls = this.phones[i].state.calls;
    return calls.length ? calls[calls.length - 1].id : undefined;
  }

  private hasCall(i: number, id: number | undefined): boolean {
    return id !== undefined && this.phones[i].state.calls.some((c) => c.id === id);
  }

  private caller(rng: Rng): { from: string; name: string } {
    if (rng.chance(0.6) && this.phones.length > 1) {
      const other = this.phones[rng.int(this.phones.length)].identity;
      return { from: `sip:${other.accounts[0].user}@${other.accounts[0].host}`, name: other.accounts[0].displayName };
    }
    return { from: `${rng.pick(EXTERNAL_PREFIXES)}${100000 + rng.int(900000)}`, name: rng.pick(DISPLAY_NAMES) };
  }

  private handle(e: Event, emit: SimEmit): void {
    const i = e.phone;
    const p = this.phones[i];
    const rng = p.rng;
    const u = this.unit;
    const callGone = e.call !== undefined && !this.hasCall(i, e.call);
    if (callGone) return;
    switch (e.kind) {
      case 'tick': {
        const t = advance(p.state, this.now);
        p.state = t.state;
        if (t.incidents.length) emit(i, t.incidents);
        p.tickAt = Infinity;
        return;
      }
      case 'boot':
        this.act(i, { do: 'boot' }, emit);
        this.after(i, rng.between(50, 500), 'register');
        return;
      case 'register': {
        // Now and then the registrar says no; the phone tries again a little later.
        if (rng.chance(0.02)) {
          this.act(i, { do: 'register_fail' }, emit);
          this.after(i, rng.between(1000, 3000) * Math.max(u, 0.2), 'register');
          return;
        }
        this.act(i, { do: 'register' }, emit);
        this.after(i, rng.exp(this.gap), 'arrival');
        this.after(i, rng.exp(this.gap * 20), 'dnd');
        this.after(i, rng.exp(this.gap * 25), 'forward');
        this.after(i, rng.exp(this.gap * 500), 'ip');
        return;
      }
      case 'arrival':
        this.after(i, rng.exp(this.gap), 'arrival');
        return this.arrival(i, emit);
      case 'ring_end': {
        // Handset up already (the user never put it back)? Then the speaker key answers; if the phone cannot
        // answer at all, the caller gives up, so no call rings forever.
        const tries: Action[] = e.arg === 'handset' ? [{ do: 'offhook' }, { do: 'answer' }]
          : e.arg === 'speaker' ? [{ do: 'answer' }]
            : e.arg === 'reject' ? [{ do: 'reject' }] : [];
        const answered = tries.some((a) => this.act(i, a, emit));
        if (answered && e.arg !== 'reject') this.inCall(i, e.call!);
        else if (!answered && this.hasCall(i, e.call)) this.act(i, { do: 'remote_cancel' }, emit);
        return;
      }
      case 'waiting_end':
        this.act(i, rng.chance(0.5) ? { do: 'reject' } : { do: 'remote_cancel' }, emit);
        return;
      case 'dial': {
        if (this.act(i, { do: 'dial', number: this.number(rng) }, emit)) this.farEnd(i);
        else this.act(i, { do: 'onhook' }, emit);
        return;
      }
      case 'far_end': {
        if (e.arg === 'answer') {
          if (this.act(i, { do: 'remote_answer' }, emit)) this.inCall(i, e.call!);
        } else if (e.arg === 'busy') {
          if (this.act(i, { do: 'remote_busy' }, emit)) this.hangUpHandset(i);
        } else {
          // Nobody answers: the user gives up.
          this.endLocally(i, emit);
        }
        return;
      }
      case 'end': {
        if (p.state.transfer) return; // the transfer ends this call
        if (rng.chance(0.45)) {
          if (this.act(i, { do: 'remote_hangup' }, emit)) this.hangUpHandset(i);
        } else this.endLocally(i, emit);
        return;
      }
      case 'onhook':
        if (p.state.handset === 'off' && !p.state.calls.some((c) => c.phase === 'talking' || c.phase === 'dialing')) {
          this.act(i, { do: 'onhook' }, emit);
        }
        return;
      case 'hold':
        if (this.act(i, { do: 'hold' }, emit)) this.after(i, rng.between(2000, 15000) * u, 'unhold', e.call);
        return;
      case 'unhold':
        this.act(i, { do: 'unhold' }, emit);
        return;
      case 'mute':
        if (this.act(i, { do: 'mute' }, emit)) this.after(i, rng.between(1000, 10000) * u, 'unmute', e.call);
        return;
      case 'unmute':
        this.act(i, { do: 'unmute' }, emit);
        return;
      case 'transfer': {
        const target = this.number(rng);
        if (e.arg === 'blind') {
          if (this.act(i, { do: 'transfer', mode: 'blind', target }, emit)) this.after(i, rng.between(300, 2000) * u, 'transfer_result', e.call);
        } else if (this.act(i, { do: 'transfer', mode: 'attended', target }, emit)) {
          this.after(i, rng.between(1000, 6000) * u, 'consult_answer', this.newestCall(i));
        }
        return;
      }
      case 'consult_answer':
        if (this.act(i, { do: 'remote_answer' }, emit)) this.after(i, rng.between(2000, 20000) * u, 'consult_complete', e.call);
        return;
      case 'consult_complete':
        if (this.act(i, { do: 'transfer', mode: 'attended' }, emit)) this.after(i, rng.between(300, 2000) * u, 'transfer_result', e.call);
        return;
      case 'transfer_result':
        if (this.act(i, { do: 'transfer_result', ok: rng.chance(0.85) }, emit)) this.hangUpHandset(i);
        return;
      case 'dnd': {
        const on = !p.state.dnd;
        this.act(i, { do: 'dnd', on }, emit);
        // DND stays on for a while, then goes off; off, it waits for the next whim.
        this.after(i, on ? rng.exp(this.gap) : rng.exp(this.gap * 20), 'dnd');
        return;
      }
      case 'forward': {
        const kind = e.arg as (typeof FORWARDS)[number] | undefined ?? rng.pick(FORWARDS);
        const on = !p.state.forward[kind].on;
        this.act(i, { do: 'forward', kind, on, ...(on ? { target: this.number(rng) } : {}) }, emit);
        if (on) this.after(i, rng.exp(this.gap * 1.5), 'forward', undefined, kind);
        else this.after(i, rng.exp(this.gap * 25), 'forward');
        return;
      }
      case 'ip': {
        const [a, b, c] = p.state.device.ip.split('.').slice(1).map(Number);
        this.act(i, { do: 'ip', address: `127.${a}.${b}.${c === 254 ? 1 : c + 1}` }, emit);
        this.after(i, rng.exp(this.gap * 500), 'ip');
        return;
      }
    }
  }

  private number(rng: Rng): string {
    if (rng.chance(0.5) && this.phones.length > 1) return this.phones[rng.int(this.phones.length)].identity.accounts[0].user;
    return `${rng.pick(EXTERNAL_PREFIXES)}${100000 + rng.int(900000)}`;
  }

  private arrival(i: number, emit: SimEmit): void {
    const p = this.phones[i];
    const rng = p.rng;
    if (!p.state.accounts.some((a) => a.registered)) return;
    // The engine's keys act on the ringing call, so one caller rings at a time: a second one hears busy.
    if (p.state.calls.some((c) => c.phase === 'ringing')) return;
    const inUse = p.state.busy || p.state.calls.length > 0;
    if (inUse) {
      // A second caller while the user is on the phone: call waiting (or busy forward, if on).
      if (p.state.calls.length >= 2 || !rng.chance(0.5)) return;
      const before = this.newestCall(i);
      this.act(i, { do: 'incoming', ...this.caller(rng) }, emit);
      const id = this.newestCall(i);
      if (id !== before && id !== undefined) this.after(i, rng.exp(this.ring), 'waiting_end', id);
      return;
    }
    if (rng.chance(0.6)) {
      if (!this.act(i, { do: 'incoming', ...this.caller(rng) }, emit)) return;
      const id = this.newestCall(i);
      if (id === undefined) return; // forwarded or refused under DND
      const r = rng.next();
      const outcome = r < 0.36 ? 'handset' : r < 0.72 ? 'speaker' : r < 0.87 ? 'missed' : r < 0.95 ? 'reject' : 'long';
      // A long ring meets no-answer forward if it is on; otherwise the caller gives up.
      const delay = outcome === 'long' ? this.ring * rng.between(3.5, 5) : rng.exp(this.ring);
      this.after(i, delay, 'ring_end', id, outcome === 'long' ? 'missed' : outcome);
      return;
    }
    if (rng.chance(0.5)) {
      if (this.act(i, { do: 'offhook' }, emit)) this.after(i, rng.between(500, 3000) * this.unit, 'dial');
      return;
    }
    if (this.act(i, { do: 'dial', number: this.number(rng) }, emit)) this.farEnd(i);
  }

  private farEnd(i: number): void {
    const rng = this.phones[i].rng;
    const r = rng.next();
    const outcome = r < 0.8 ? 'answer' : r < 0.9 ? 'busy' : 'none';
    this.after(i, rng.exp(this.ring), 'far_end', this.newestCall(i), outcome);
  }

  /** Plans an established call: its length, and maybe hold, mute or a transfer on the way. */
  private inCall(i: number, call: number): void {
    const rng = this.phones[i].rng;
    const talk = rng.lognormal(this.talk);
    this.after(i, talk, 'end', call);
    if (rng.chance(0.2)) this.after(i, talk * rng.between(0.2, 0.5), 'hold', call);
    if (rng.chance(0.12)) this.after(i, talk * rng.between(0.1, 0.4), 'mute', call);
    if (rng.chance(0.08)) this.after(i, talk * rng.between(0.55, 0.9), 'transfer', call, rng.chance(0.6) ? 'blind' : 'attended');
  }

  /** The user ends the call: the handset goes down on a live call; a held call is ended with the key. */
  private endLocally(i: number, emit: SimEmit): void {
    const s = this.phones[i].state;
    const live = s.calls.some((c) => c.phase === 'talking' || c.phase === 'dialing');
    if (s.handset === 'off' && live) {
      this.act(i, { do: 'onhook' }, emit);
      return;
    }
    if (s.calls.length > 0 || s.predial) this.act(i, { do: 'hangup' }, emit);
    this.hangUpHandset(i);
  }

  /** After the far end left, a user holding the handset puts it down a moment later. */
  private hangUpHandset(i: number): void {
    const p = this.phones[i];
    if (p.state.handset === 'off') this.after(i, p.rng.between(500, 3000) * this.unit, 'onhook');
  }
}
