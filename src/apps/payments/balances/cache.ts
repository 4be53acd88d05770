import type pg from 'pg';

type Db = Pick<pg.ClientBase, 'query'>;

/** A row of payment_balances, money as bigint. */
export interface CachedBalance {
  accountId: string;
  token: string;
  amount: bigint;
  /** Null: never read from the chain. */
  height: bigint | null;
  lastSynced: Date | null;
  stale: boolean;
  pendingOut: bigint;
  pendingIn: bigint;
}

interface Row {
  accountId: string;
  token: string;
  amount: string;
  height: bigint | null;
  lastSynced: Date | null;
  stale: boolean;
  pendingOut: string;
  pendingIn: string;
}

const COLUMNS = `account_id::text as "accountId", token, amount::text, height, last_synced as "lastSynced", stale, pending_out::text as "pendingOut", pending_in::text as "pendingIn"`;

const toCached = (r: Row): CachedBalance => ({ ...r, amount: BigInt(r.amount), pendingOut: BigInt(r.pendingOut), pendingIn: BigInt(r.pendingIn) });

/** The cached row, if there is one: one query, no chain call. */
export async function cachedBalance(db: Db, accountId: string, token: string): Promise<CachedBalance | undefined> {
  const { rows } = await db.query<Row>(`select ${COLUMNS} from payment_balances where account_id = $1 and token = $2`, [accountId, token]);
  return rows[0] && toCached(rows[0]);
}

/**
 * Stores what the chain said at `height`, fresh (not stale), unless the row
 * already holds a later height (a node behind the one read before): the cache
 * never goes back in time. Returns the row as it is afterwards.
 */
export async function recordChainRead(db: Db, accountId: string, token: string, read: { amount: bigint; height: bigint; readAt: Date }): Promise<CachedBalance> {
  const { rows } = await db.query<Row>(
    `insert into payment_balances as b (account_id, token, amount, height, last_synced, stale) values ($1, $2, $3, $4, $5, false)
     on conflict (account_id, token) do update set amount = excluded.amount, height = excluded.height, last_synced = excluded.last_synced, stale = false
       where b.height is null or b.height <= excluded.height
     returning ${COLUMNS}`,
    [accountId, token, read.amount.toString(), read.height, read.readAt],
  );
  if (rows[0]) return toCached(rows[0]);
  return (await cachedBalance(db, accountId, token))!;
}

/**
 * Locks the balance rows of these accounts (FOR UPDATE, in account order so two
 * transactions locking the same pair never deadlock), creating the missing ones
 * (never read: height null, stale). `client` must be inside BEGIN.
 */
export async function lockBalances(client: Db, accountIds: string[], token: string): Promise<Map<string, CachedBalance>> {
  const ids = [...new Set(accountIds)];
  await client.query(
    `insert into payment_balances (account_id, token) select unnest($1::bigint[]), $2 on conflict (account_id, token) do nothing`,
    [ids, token],
  );
  const { rows } = await client.query<Row>(
    `select ${COLUMNS} from payment_balances where account_id = any($1::bigint[]) and token = $2 order by account_id for update`,
    [ids, token],
  );
  return new Map(rows.map((r) => [r.accountId, toCached(r)]));
}
