import type pg from 'pg';
import { inTransaction } from '../../../engine/index.js';
import { findAccount, type Account } from '../accounts.js';
import { CUSD } from '../settings.js';
import { cachedBalance, lockBalances, recordChainRead, type CachedBalance } from './cache.js';
import { readChainBalance } from './chain.js';
import type { BalancePorts } from './ports.js';

/** An account's balance as the app shows it (seed 004's BalanceService.get_balance). */
export interface Balance {
  /** What the chain holds (as of `height`). */
  amount: bigint;
  /** Reserved by sends not settled yet. */
  pendingOut: bigint;
  /** Coming from sends of our other accounts, not settled yet. */
  pendingIn: bigint;
  /** What a new send may take: amount − pendingOut, never below zero. */
  available: bigint;
  /** The block (EVM) or checkpoint (Sui) `amount` was read at; null: never read. */
  height: bigint | null;
  lastSynced: Date | null;
  /** Something touched the account since `height` (a transaction seen, a send settled): the amount may be out of date. */
  stale: boolean;
  /** `cache`: served from PostgreSQL without a chain call; `chain`: read from the chain just now (and cached). */
  source: 'cache' | 'chain';
}

export class AccountNotFoundError extends Error {
  override name = 'AccountNotFoundError';
}

export class UnknownTokenError extends Error {
  override name = 'UnknownTokenError';
}

/** The tokens the app keeps balances of. */
export function checkToken(token: string): void {
  if (token !== CUSD.symbol) throw new UnknownTokenError(`unknown token ${JSON.stringify(token)}: the payments app keeps balances of ${CUSD.symbol}`);
}

/**
 * An account's balance. For display (`verifyCritical` false) it is the cached
 * row, stale or not, with zero chain calls; the periodic refresh keeps it
 * current. An account never read before has nothing to serve: it is read from
 * the chain once (`source: 'chain'`) and cached, so the next read is cached.
 * A critical read (before moving money) always reads the chain and updates the
 * cache (never to an older height).
 */
export async function getBalance(ports: BalancePorts, accountId: string, token: string, options: { verifyCritical?: boolean } = {}): Promise<Balance> {
  checkToken(token);
  if (!options.verifyCritical) {
    const cached = await cachedBalance(ports.pool, accountId, token);
    if (cached && cached.height !== null) return toBalance(cached, 'cache');
  }
  const account = await findAccount(ports.pool, accountId);
  if (!account) throw new AccountNotFoundError(`no payments account ${accountId}`);
  return inTransaction(ports.pool, (client) => readThrough(client, ports, account, token));
}

/**
 * Reads the balance from the chain and caches it, the row locked meanwhile
 * (`client` inside BEGIN): whatever marks it stale during the read (the poller,
 * a settled send) waits, and leaves it stale after, rather than being
 * overwritten by a read from before it. Returns what the chain said, with the
 * row's pending amounts, even when the cache kept a later height (this node is
 * behind the one read before).
 */
export async function readThrough(client: pg.ClientBase, ports: BalancePorts, account: Pick<Account, 'id' | 'chain' | 'address'>, token: string): Promise<Balance> {
  await lockBalances(client, [account.id], token);
  const read = await readChainBalance(ports, account.chain, account.address);
  const row = await recordChainRead(client, account.id, token, read);
  return toBalance({ ...row, amount: read.amount, height: read.height, lastSynced: read.readAt, stale: false }, 'chain');
}

export function toBalance(row: Pick<CachedBalance, 'amount' | 'pendingOut' | 'pendingIn' | 'height' | 'lastSynced' | 'stale'>, source: Balance['source']): Balance {
  const available = row.amount - row.pendingOut;
  return {
    amount: row.amount,
    pendingOut: row.pendingOut,
    pendingIn: row.pendingIn,
    available: available > 0n ? available : 0n,
    height: row.height,
    lastSynced: row.lastSynced,
    stale: row.stale,
    source,
  };
}
