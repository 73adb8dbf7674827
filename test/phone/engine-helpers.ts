/** Drives the call engine through a list of actions, as the flows in docs/vendors.md are written. */
import { advance, initialState, step } from '../../src/phone/engine/index.ts';
import type { Action, FiredIncident, HandsetState } from '../../src/phone/engine/index.ts';

export const DEVICE = {
  mac: '001565aabbcc',
  ip: '192.168.1.50',
  model: 'T46U',
  firmware: '108.86.0.45',
  hardwareVersion: '1.0.0.0',
};

export function freshPhone(accounts = [{ user: '1001', host: 'pbx.example.com', displayName: 'Alice' }]): HandsetState {
  return initialState({ device: DEVICE, accounts });
}

/** Applies actions in order; throws with the engine's reason on an impossible one. */
export function run(state: HandsetState, actions: Action[], now = 0): { state: HandsetState; incidents: FiredIncident[] } {
  const incidents: FiredIncident[] = [];
  let s = state;
  for (const a of actions) {
    const ticked = advance(s, now);
    incidents.push(...ticked.incidents);
    const r = step(ticked.state, a, now);
    if ('error' in r) throw new Error(`${a.do}: ${r.error}`);
    s = r.state;
    incidents.push(...r.incidents);
  }
  return { state: s, incidents };
}

export const slugs = (incidents: FiredIncident[]) => incidents.map((i) => i.slug);

/** A booted phone with its account registered. */
export function readyPhone(accounts?: Parameters<typeof freshPhone>[0]): HandsetState {
  return run(freshPhone(accounts), [{ do: 'boot' }, { do: 'register' }]).state;
}
