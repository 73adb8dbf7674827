/**
 * The call engine: `step(state, action, now)` is what a phone's firmware does when the user or the network
 * acts, as a pure function. It returns the new state and the incidents fired, in the order firmware fires
 * them (docs/vendors.md, "Incident order in common flows"), or the reason the action is impossible.
 *
 * Rules the flows rely on:
 * - busy/idle is phone-wide: busy while the handset's dial tone is up or any call is beyond ringing; a call
 *   that only rings leaves the phone idle.
 * - call variables always describe the phone's first call (firmware reports only that one when several exist).
 * - switches (DND, forwards) fire only their own on/off incident, and only when they change.
 */
import { isIP } from 'node:net';
import { I, FORWARD_INCIDENTS } from './incidents.ts';
import { displayNameProblem, parseParty } from './parties.ts';
import type { Account, Action, Call, FiredIncident, ForwardKind, HandsetState, StepResult } from './types.ts';
import { FORWARD_KINDS } from './types.ts';
import { varsFor } from './vars.ts';

type Draft = Omit<{ -readonly [K in keyof HandsetState]: HandsetState[K] }, 'calls' | 'accounts'> & {
  calls: Call[];
  accounts: Account[];
};

class Impossible extends Error {}
const impossible = (reason: string): never => {
  throw new Impossible(reason);
};

/** A working copy of the state plus the incidents fired so far in this step. */
class Tx {
  readonly s: Draft;
  readonly fired: FiredIncident[] = [];

  constructor(state: HandsetState, readonly now: number) {
    this.s = { ...state, calls: [...state.calls], accounts: [...state.accounts] };
  }

  /** Fires an incident with the variables firmware fills at this moment. */
  fire(slug: string, accountIndex?: number): void {
    const call = this.s.calls[0];
    const index = accountIndex ?? call?.account ?? this.defaultAccount();
    this.fired.push({
      slug,
      vars: varsFor(slug, { device: this.s.device, account: this.s.accounts[index], call, now: this.now }),
    });
  }

  defaultAccount(): number {
    const i = this.s.accounts.findIndex((a) => a.registered);
    return i === -1 ? 0 : i;
  }

  registeredAccount(why: string): number {
    const i = this.s.accounts.findIndex((a) => a.registered);
    return i === -1 ? impossible(why) : i;
  }

  /** The call the user is talking on or dialling: not ringing, not held. */
  active(): Call | undefined {
    return this.s.calls.find((c) => c.phase === 'talking' || c.phase === 'dialing');
  }

  ringing(): Call | undefined {
    return this.s.calls.find((c) => c.phase === 'ringing');
  }

  lastHeld(): Call | undefined {
    return this.s.calls.findLast((c) => c.phase === 'held');
  }

  update(id: number, patch: Partial<Call>): void {
    this.s.calls = this.s.calls.map((c) => (c.id === id ? { ...c, ...patch } : c));
  }

  remove(id: number): void {
    this.s.calls = this.s.calls.filter((c) => c.id !== id);
  }

  newCall(fields: Omit<Call, 'id' | 'startedAt' | 'answeredAt' | 'muted'>): Call {
    const call: Call = { ...fields, id: this.s.nextCallId, startedAt: this.now, answeredAt: null, muted: false };
    this.s.nextCallId += 1;
    return call;
  }

  becomeBusy(): void {
    if (this.s.busy) return;
    this.s.busy = true;
    this.fire(I.idleToBusy);
  }

  /** busy_to_idle once nothing keeps the phone busy any more. */
  settle(): void {
    const busyNow = this.s.predial || this.s.calls.some((c) => c.phase !== 'ringing');
    if (this.s.busy && !busyNow) {
      this.s.busy = false;
      this.fire(I.busyToIdle);
    }
  }

  holdCall(call: Call): void {
    this.update(call.id, { phase: 'held' });
    this.fire(I.hold);
  }

  answerCall(call: Call): void {
    this.s.predial = false;
    this.fire(I.answerNew);
    this.update(call.id, { phase: 'talking', answeredAt: this.now });
    this.becomeBusy();
    this.fire(I.established);
  }

  /** call_terminated is reported while the call still exists, then the call is gone. */
  endCall(call: Call): void {
    this.fire(I.terminated);
    this.remove(call.id);
    const t = this.s.transfer;
    if (t && (t.callId === call.id || t.consultId === call.id)) this.s.transfer = null;
  }

  /** A call the phone sends elsewhere without ringing (SIP 302): reported while it exists, then gone. */
  forwardCall(call: Call): void {
    this.s.calls.push(call);
    this.fire(I.forwardIncoming);
    this.remove(call.id);
  }

  result(): StepResult {
    return { state: this.s, incidents: this.fired };
  }
}

export function step(state: HandsetState, action: Action, now = 0): StepResult {
  const tx = new Tx(state, now);
  if (!Object.hasOwn(ACTIONS, action.do)) return { error: `unknown action "${String(action.do)}"` };
  try {
    if (action.do !== 'boot' && !state.booted) impossible('the phone has not booted yet: boot it first');
    ACTIONS[action.do](tx, action as never);
  } catch (err) {
    if (err instanceof Impossible) return { error: err.message };
    throw err;
  }
  return tx.result();
}

/**
 * Time passing: calls that rang longer than the no-answer time are forwarded when no-answer forward is on.
 * Call it before each action and when `nextDeadline` comes.
 */
export function advance(state: HandsetState, now: number): { state: HandsetState; incidents: FiredIncident[] } {
  const due = dueForNoAnswer(state, now);
  if (due.length === 0) return { state, incidents: [] };
  const tx = new Tx(state, now);
  for (const call of due) {
    tx.fire(I.forwardIncoming);
    tx.remove(call.id);
  }
  return { state: tx.s, incidents: tx.fired };
}

/** Engine time of the next time-driven incident, or null. */
export function nextDeadline(state: HandsetState): number | null {
  if (!state.forward.no_answer.on) return null;
  let next: number | null = null;
  for (const c of state.calls) {
    if (c.phase !== 'ringing') continue;
    const at = c.startedAt + state.noAnswerMs;
    if (next === null || at < next) next = at;
  }
  return next;
}

function dueForNoAnswer(state: HandsetState, now: number): Call[] {
  if (!state.forward.no_answer.on) return [];
  return state.calls.filter((c) => c.phase === 'ringing' && now - c.startedAt >= state.noAnswerMs);
}

type Handlers = { [K in Action['do']]: (tx: Tx, action: Extract<Action, { do: K }>) => void };

const ACTIONS: Handlers = {
  boot(tx) {
    // A reboot drops calls and registrations without incidents, as a power cycle does; settings stay.
    tx.s.calls = [];
    tx.s.transfer = null;
    tx.s.predial = false;
    tx.s.busy = false;
    tx.s.accounts = tx.s.accounts.map((a) => ({ ...a, registered: false }));
    tx.s.booted = true;
    tx.fire(I.setupCompleted);
    tx.fire(I.ipChange);
  },

  register(tx) {
    const todo = indexesWhere(tx, (registered) => !registered);
    if (todo.length === 0) impossible('every account is already registered');
    for (const i of todo) {
      tx.s.accounts[i] = { ...tx.s.accounts[i], registered: true };
      tx.fire(I.registered, i);
    }
  },

  register_fail(tx) {
    const todo = indexesWhere(tx, (registered) => !registered);
    if (todo.length === 0) impossible('every account is registered: unregister first');
    for (const i of todo) tx.fire(I.registerFailed, i);
  },

  unregister(tx) {
    const todo = indexesWhere(tx, (registered) => registered);
    if (todo.length === 0) impossible('no account is registered');
    for (const i of todo) {
      tx.s.accounts[i] = { ...tx.s.accounts[i], registered: false };
      tx.fire(I.unregistered, i);
    }
  },

  offhook(tx) {
    if (tx.s.handset === 'off') impossible('the handset is already off hook');
    tx.s.handset = 'off';
    const active = tx.active();
    const ringing = tx.ringing();
    tx.fire(I.offHook);
    if (active) return; // audio moves from the speaker to the handset
    if (ringing) {
      tx.answerCall(ringing);
      return;
    }
    tx.s.predial = true;
    tx.becomeBusy();
  },

  onhook(tx) {
    if (tx.s.handset === 'on') impossible('the handset is already on hook');
    tx.s.handset = 'on';
    tx.fire(I.onHook);
    const active = tx.active();
    if (active) tx.endCall(active);
    tx.s.predial = false;
    tx.settle();
  },

  dial(tx, a) {
    const party = checkedParty(a.number, 'number');
    const account = tx.registeredAccount('no registered account to call from');
    const active = tx.active();
    if (active?.phase === 'dialing') impossible('a call is already being dialled: hang it up first');
    if (active) tx.holdCall(active);
    tx.s.predial = false;
    const call = dialledCall(tx, account, party);
    tx.s.calls.push(call);
    tx.becomeBusy();
    tx.fire(I.outgoingCall);
  },

  remote_answer(tx) {
    const call = tx.s.calls.find((c) => c.phase === 'dialing') ?? impossible('no outgoing call is ringing at the far end');
    tx.update(call.id, { phase: 'talking', answeredAt: tx.now });
    tx.fire(I.established);
  },

  remote_busy(tx) {
    const call = tx.s.calls.find((c) => c.phase === 'dialing') ?? impossible('no outgoing call is ringing at the far end');
    tx.endCall(call);
    tx.settle();
  },

  incoming(tx, a) {
    const party = checkedParty(a.from, 'from');
    const name = a.name ?? '';
    const bad = displayNameProblem(name);
    if (bad) impossible(bad);
    const account = tx.registeredAccount('no registered account: the phone cannot receive calls');
    const call = tx.newCall({
      direction: 'incoming',
      account,
      remoteUser: party.user,
      remoteHost: party.host || tx.s.accounts[account].host,
      remoteName: name,
      calledNumber: tx.s.accounts[account].user,
      phase: 'ringing',
    });
    if (tx.s.forward.always.on) return tx.forwardCall(call);
    // DND refuses the call (SIP 480) before it rings: no incident at all.
    if (tx.s.dnd) return;
    if (tx.s.busy && tx.s.forward.busy.on) return tx.forwardCall(call);
    tx.s.calls.push(call);
    tx.fire(I.incomingCall);
  },

  remote_cancel(tx) {
    const call = tx.ringing() ?? impossible('no incoming call is ringing');
    tx.fire(I.missedCall);
    tx.remove(call.id);
  },

  answer(tx) {
    const call = tx.ringing() ?? impossible('no ringing call to answer');
    const active = tx.active();
    if (active?.phase === 'dialing') impossible('an outgoing call is being dialled: hang it up first');
    if (active) tx.holdCall(active); // call waiting: the current call goes on hold
    tx.answerCall(call);
  },

  reject(tx) {
    const call = tx.ringing() ?? impossible('no ringing call to reject');
    tx.fire(I.rejectIncoming);
    tx.remove(call.id);
  },

  hangup(tx) {
    const call = tx.active() ?? tx.lastHeld();
    if (!call) {
      if (!tx.s.predial) impossible('no call to hang up');
      tx.s.predial = false;
    } else {
      tx.endCall(call);
    }
    tx.settle();
  },

  remote_hangup(tx) {
    const active = tx.active();
    const call = (active?.phase === 'talking' ? active : undefined) ?? tx.lastHeld()
      ?? impossible('no established call for the far end to hang up');
    tx.endCall(call);
    tx.settle();
  },

  hold(tx) {
    const call = talking(tx) ?? impossible('no active call to hold');
    tx.holdCall(call);
  },

  unhold(tx) {
    const call = tx.lastHeld() ?? impossible('no held call to resume');
    const active = tx.active();
    if (active?.phase === 'dialing') impossible('an outgoing call is being dialled: hang it up first');
    if (active) tx.holdCall(active);
    tx.update(call.id, { phase: 'talking' });
    tx.fire(I.unhold);
  },

  mute(tx) {
    const call = talking(tx) ?? impossible('no active call to mute');
    if (call.muted) impossible('the call is already muted');
    tx.update(call.id, { muted: true });
    tx.fire(I.mute);
  },

  unmute(tx) {
    const call = talking(tx) ?? impossible('no active call to unmute');
    if (!call.muted) impossible('the call is not muted');
    tx.update(call.id, { muted: false });
    tx.fire(I.unmute);
  },

  dnd(tx, a) {
    if (tx.s.dnd === a.on) impossible(`DND is already ${a.on ? 'on' : 'off'}`);
    tx.s.dnd = a.on;
    tx.fire(a.on ? I.dndOn : I.dndOff);
  },

  forward(tx, a) {
    const kind: ForwardKind = a.kind;
    if (!FORWARD_KINDS.includes(kind)) impossible(`unknown forward kind "${String(kind)}"`);
    const current = tx.s.forward[kind];
    const target = a.target?.trim() ?? '';
    if (a.on) {
      if (target === '') impossible('a forward target is needed to switch forwarding on');
      checkedParty(target, 'target');
    }
    if (!a.on && !current.on) impossible(`${kind} forward is already off`);
    tx.s.forward = { ...tx.s.forward, [kind]: { on: a.on, target: a.on ? target : current.target } };
    // A new target for a forward that is already on is a setting change, not a switch: no incident.
    if (current.on === a.on) return;
    tx.fire(a.on ? FORWARD_INCIDENTS[kind].on : FORWARD_INCIDENTS[kind].off);
  },

  transfer(tx, a) {
    const t = tx.s.transfer;
    if (a.mode === 'attended' && t?.mode === 'attended' && !t.requested) {
      // The second press: hand the held caller over to the consultation's far end.
      tx.s.transfer = { ...t, requested: true };
      tx.fire(I.transferCall);
      tx.fire(I.attendedTransfer);
      return;
    }
    if (t) impossible('a transfer is already in progress');
    if (a.mode !== 'blind' && a.mode !== 'attended') impossible(`unknown transfer mode "${String(a.mode)}"`);
    const target = checkedParty(a.target ?? '', 'target');
    if (a.mode === 'blind') {
      const call = talking(tx) ?? tx.lastHeld() ?? impossible('no established call to transfer');
      tx.s.transfer = { mode: 'blind', callId: call.id, requested: true };
      tx.fire(I.transferCall);
      tx.fire(I.blindTransfer);
      return;
    }
    const call = talking(tx) ?? impossible('no active call to transfer');
    const account = call.account;
    tx.holdCall(call);
    const consult = dialledCall(tx, account, target);
    tx.s.calls.push(consult);
    tx.s.transfer = { mode: 'attended', callId: call.id, consultId: consult.id, requested: false };
    tx.fire(I.outgoingCall);
  },

  transfer_result(tx, a) {
    const t = tx.s.transfer;
    if (!t?.requested) return impossible('no transfer is waiting for its result');
    tx.s.transfer = null;
    tx.fire(a.ok ? I.transferFinished : I.transferFailed);
    // Both legs end either way; the original first, then the consultation.
    for (const id of [t.callId, t.consultId]) {
      const call = tx.s.calls.find((c) => c.id === id);
      if (call) tx.endCall(call);
    }
    tx.settle();
  },

  ip(tx, a) {
    const address = typeof a.address === 'string' ? a.address.trim() : '';
    if (isIP(address) === 0) impossible(`"${String(a.address)}" is not an IP address`);
    if (address === tx.s.device.ip) impossible(`the phone already has address ${address}`);
    tx.s.device = { ...tx.s.device, ip: address };
    tx.fire(I.ipChange);
  },
};

/** An outgoing call the user dialled from `account` (a new call, or an attended transfer's consultation). */
function dialledCall(tx: Tx, account: number, party: ReturnType<typeof checkedParty>): Call {
  return tx.newCall({
    direction: 'outgoing',
    account,
    remoteUser: party.user,
    remoteHost: party.host || tx.s.accounts[account].host,
    remoteName: '',
    calledNumber: party.user,
    phase: 'dialing',
  });
}

function talking(tx: Tx): Call | undefined {
  return tx.s.calls.find((c) => c.phase === 'talking');
}

function indexesWhere(tx: Tx, pred: (registered: boolean) => boolean): number[] {
  return tx.s.accounts.flatMap((a, i) => (pred(a.registered) ? [i] : []));
}

function checkedParty(text: string, field: string) {
  if (typeof text !== 'string') return impossible(`"${field}" must be a string`);
  const p = parseParty(text);
  return 'error' in p ? impossible(`${field}: ${p.error}`) : p;
}
