/**
 * Registration, per account. An account incident names its account through `$active_url` (or `$active_user`
 * and `$active_host`); one that names none (a vendor that does not fill them, a placeholder) is about every
 * account we know, or about the phone's one anonymous account when we know none yet.
 */
import type { AccountState } from './types.ts';
import type { Draft } from './draft.ts';
import { accountIdOf } from './vars.ts';
import { MAX_ACCOUNTS } from './limits.ts';

export type Registration = 'registered' | 'unregistered' | 'register_failed';

export function applyRegistration(d: Draft, vars: unknown, what: Registration): void {
  const registered = what === 'registered';
  const failed = what === 'register_failed';
  const id = accountIdOf(vars);
  let accounts = [...d.phone.accounts];
  if (id !== '') {
    // A named account replaces the anonymous stand-in: it was this phone's account all along.
    accounts = accounts.filter((a) => a.id !== '');
    if (!accounts.some((a) => a.id === id)) {
      // At the cap (see limits.ts) the account whose registration changed longest ago makes room.
      if (accounts.length >= MAX_ACCOUNTS) accounts.splice(oldest(accounts), 1);
      accounts.push({ id, registered: null, failed: false, since: d.at });
    }
  } else if (accounts.length === 0) {
    accounts.push({ id: '', registered: null, failed: false, since: d.at });
  }
  d.phone.accounts = accounts.map((account) =>
    id === '' || account.id === id ? setRegistration(account, registered, failed, d.at) : account,
  );
  d.phone.registered = anyRegistered(d.phone.accounts);
}

function setRegistration(account: AccountState, registered: boolean, failed: boolean, at: number): AccountState {
  if (account.registered === registered && account.failed === failed) return account;
  return { ...account, registered, failed, since: at };
}

/** True when any account is registered; null while no account's registration was ever heard. */
export function anyRegistered(accounts: readonly AccountState[]): boolean | null {
  if (accounts.some((a) => a.registered === true)) return true;
  return accounts.some((a) => a.registered === false) ? false : null;
}

/** Index of the account whose registration changed longest ago. */
function oldest(accounts: readonly AccountState[]): number {
  let at = 0;
  for (let i = 1; i < accounts.length; i++) if (accounts[i].since < accounts[at].since) at = i;
  return at;
}
