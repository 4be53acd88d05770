import type pg from 'pg';
import { normalizeSuiAddress, isValidSuiAddress } from '@mysten/sui/utils';
import { isAddress } from 'viem';
import type { ChainKey } from '../../engine/index.js';

/** A user's address on one chain, as the payments tables keep it. */
export interface Account {
  id: string;
  userId: string;
  chain: ChainKey;
  address: string;
  active: boolean;
  custody: 'custodial' | 'user';
}

export interface User {
  id: string;
  externalRef: string;
  displayName: string | null;
  locale: string;
  pushProvider: string | null;
  pushTarget: string | null;
}

export class InvalidAddressError extends Error {
  override name = 'InvalidAddressError';
}

/** An address in the one form the chain's family compares: lower-case hex on EVM, the 64-hex long form on Sui. */
export function normalizeAddress(chain: ChainKey, address: string): string {
  if (chain.startsWith('sui:')) {
    if (!isValidSuiAddress(normalizeSuiAddress(address))) throw new InvalidAddressError(`${address} is not a Sui address`);
    return normalizeSuiAddress(address);
  }
  if (!isAddress(address, { strict: false })) throw new InvalidAddressError(`${address} is not an EVM address`);
  return address.toLowerCase();
}

const USER_COLUMNS = 'id::text, external_ref as "externalRef", display_name as "displayName", locale, push_provider as "pushProvider", push_target as "pushTarget"';
const ACCOUNT_COLUMNS = 'id::text, user_id::text as "userId", chain, address, active, custody';

/** Creates the user, or returns the one with this external reference. */
export async function ensureUser(
  db: Pick<pg.ClientBase, 'query'>,
  user: { externalRef: string; displayName?: string; locale?: string; push?: { provider: string; target: string } },
): Promise<User> {
  const { rows } = await db.query<User>(
    `insert into payment_users (external_ref, display_name, locale, push_provider, push_target) values ($1, $2, $3, $4, $5)
     on conflict (external_ref) do update set external_ref = excluded.external_ref
     returning ${USER_COLUMNS}`,
    [user.externalRef, user.displayName ?? null, user.locale ?? 'es', user.push?.provider ?? null, user.push?.target ?? null],
  );
  return rows[0]!;
}

/**
 * Gives a user their address on a chain. The address joins the chain's address
 * set in the same commit (the table's trigger), so the poller follows it from
 * the next block or checkpoint it reads: there is no window in which a payment
 * to a new user goes unseen.
 */
export async function addAccount(
  db: Pick<pg.ClientBase, 'query'>,
  account: { userId: string; chain: ChainKey; address: string; custody?: 'custodial' | 'user' },
): Promise<Account> {
  const { rows } = await db.query<Account>(
    `insert into payment_accounts (user_id, chain, address, custody) values ($1, $2, $3, $4) returning ${ACCOUNT_COLUMNS}`,
    [account.userId, account.chain, normalizeAddress(account.chain, account.address), account.custody ?? 'user'],
  );
  return rows[0]!;
}

/** Stops (or resumes) following an account: it leaves (or joins) the address set in the same commit. */
export async function setAccountActive(db: Pick<pg.ClientBase, 'query'>, accountId: string, active: boolean): Promise<void> {
  await db.query('update payment_accounts set active = $2 where id = $1', [accountId, active]);
}

export async function findAccount(db: Pick<pg.ClientBase, 'query'>, accountId: string): Promise<Account | undefined> {
  const { rows } = await db.query<Account>(`select ${ACCOUNT_COLUMNS} from payment_accounts where id = $1`, [accountId]);
  return rows[0];
}

export async function accountByAddress(db: Pick<pg.ClientBase, 'query'>, chain: ChainKey, address: string): Promise<Account | undefined> {
  const { rows } = await db.query<Account>(`select ${ACCOUNT_COLUMNS} from payment_accounts where chain = $1 and address = $2`, [chain, normalizeAddress(chain, address)]);
  return rows[0];
}

export async function findUser(db: Pick<pg.ClientBase, 'query'>, userId: string): Promise<User | undefined> {
  const { rows } = await db.query<User>(`select ${USER_COLUMNS} from payment_users where id = $1`, [userId]);
  return rows[0];
}
