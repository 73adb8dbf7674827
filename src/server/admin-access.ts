/**
 * Who may see the dashboard and the API (call logs with names and numbers). Three modes:
 * - `token` (`--admin-token T`): everyone needs T (Bearer, or the dashboard's sign-in cookie).
 * - `local` (the default): clients on this machine (loopback) get in; others need the admin token the
 *   receiver generated at first start and keeps with its data (in the database, so receivers sharing a
 *   PostgreSQL database share it); it is printed as a sign-in link.
 * - `open` (`--open`): anyone who can reach the port; logged loudly at start.
 */
import { randomBytes } from 'node:crypto';
import type { Settings } from '../store/types.ts';

export { isLocalClient, isLoopbackAddress } from '../core/local-client.ts';

export type AccessMode = 'token' | 'local' | 'open';

/** The settings key the generated admin token is kept under. */
export const ADMIN_TOKEN_SETTING = 'admin_token';

export const OPEN_WARNING =
  '--open: the dashboard and API (call logs with names and numbers) are open to anyone who can reach this port; ' +
  'drop --open to require the admin token from other machines';

export interface AdminAccess {
  mode: AccessMode;
  /** The token clients outside this machine (in `token` mode: all clients) need; undefined when open. */
  adminToken?: string;
}

/** Decides the access mode; in `local` mode, reads (or at first start, generates and stores) the token. */
export async function resolveAdminAccess(options: { adminToken?: string; open?: boolean }, store: Pick<Settings, 'keepSetting'>): Promise<AdminAccess> {
  if (options.adminToken) return { mode: 'token', adminToken: options.adminToken };
  if (options.open) return { mode: 'open' };
  // 32 random bytes: as strong as the HMAC keys it signs sessions with; base64url, so it goes into URLs as is.
  const adminToken = await store.keepSetting(ADMIN_TOKEN_SETTING, randomBytes(32).toString('base64url'));
  return { mode: 'local', adminToken };
}

/** The dashboard URL that signs a browser in: `<base>/?token=<token>`. */
export function signInLink(base: string, adminToken: string): string {
  return `${base.replace(/\/+$/, '')}/?token=${encodeURIComponent(adminToken)}`;
}
