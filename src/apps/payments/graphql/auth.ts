import type pg from 'pg';
import { findAccount, type Account } from '../accounts.js';
import { authenticate, type ApiKeyOwner } from '../../../engine/index.js';
import { badInput, forbidden, notFound, unauthenticated } from './errors.js';

/** The role of a user's key; its scope `{ user: '<payment_users.id>' }` names the user it speaks for. */
export const PAYMENTS_USER_ROLE = 'payments.user';

/** Who is asking, as the request or the WebSocket's connection_init said: no key, a key that is no key of ours, or a key. */
export type Authentication = { state: 'none' } | { state: 'invalid' } | { state: 'key'; owner: ApiKeyOwner };

/** Who a caller speaks for once authenticated: one user, or (an admin key) every user. */
export type Viewer = { admin: true; userId?: undefined } | { admin: false; userId: string };

/** `Bearer <key>` (the scheme case-insensitive, as RFC 7235 says) → the key; anything else → undefined. */
function bearer(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

/** Authenticates `Authorization: Bearer <key>` (HTTP) or `{ authorization: 'Bearer <key>' }` (connection_init). */
export async function authenticateBearer(pool: pg.Pool, authorization: unknown): Promise<Authentication> {
  if (authorization === undefined || authorization === null || authorization === '') return { state: 'none' };
  const key = bearer(authorization);
  const owner = key ? await authenticate(pool, key) : undefined;
  return owner ? { state: 'key', owner } : { state: 'invalid' };
}

/**
 * The viewer, or UNAUTHENTICATED (no key, a malformed, unknown or revoked one)
 * or FORBIDDEN (a key of another app, or a user's key without its user).
 */
export function requireViewer(auth: Authentication): Viewer {
  if (auth.state === 'none') return raise(unauthenticated('an API key is required: Authorization: Bearer lsk_…'));
  if (auth.state === 'invalid') return raise(unauthenticated('unknown or revoked API key'));
  const { owner } = auth;
  if (owner.admin) return { admin: true };
  const userId = owner.scope.user;
  if (!owner.roles.includes(PAYMENTS_USER_ROLE) || !userId) {
    return raise(forbidden(`this key is not a payments user's key (role ${PAYMENTS_USER_ROLE} with scope { user })`));
  }
  return { admin: false, userId };
}

/** The user a viewer reads: their own, or (admin) the one named; a user naming another user is FORBIDDEN. */
export function userFor(viewer: Viewer, named: string | undefined | null): string {
  if (named !== undefined && named !== null) {
    const id = requireId(named, 'user');
    if (!viewer.admin && viewer.userId !== id) throw forbidden(`this key speaks for user ${viewer.userId}, not ${id}`);
    return id;
  }
  if (viewer.admin) throw badInput('an admin key speaks for no user: name one (user: ID)');
  return viewer.userId;
}

/** The account, if the viewer may see it: NOT_FOUND when there is none, FORBIDDEN when it is another user's. */
export async function accountFor(pool: pg.Pool, viewer: Viewer, accountId: string): Promise<Account> {
  const account = await findAccount(pool, requireId(accountId, 'account'));
  if (!account) throw notFound(`account ${accountId} does not exist`);
  if (!viewer.admin && account.userId !== viewer.userId) throw forbidden(`account ${accountId} is not an account of this key's user`);
  return account;
}

/** Ids are bigserial: a positive integer in text. Anything else would be a PostgreSQL cast error (an INTERNAL), so it is refused here. */
export function requireId(value: string, what: string): string {
  if (!/^[1-9][0-9]{0,18}$/.test(value) || BigInt(value) > 9_223_372_036_854_775_807n) throw badInput(`${what} id must be a positive integer, not ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

function raise(error: Error): never {
  throw error;
}
