import type pg from 'pg';
import { normalizeStructTag, normalizeSuiAddress, parseStructTag } from '@mysten/sui/utils';
import type { ObjectRef, SuiRelayerContext } from './context.js';

/** SUI's coin type, long form: the gas coins. */
export const SUI_TYPE = normalizeStructTag('0x2::sui::SUI');

/** The most coins merged into one transaction's payment or funds: beyond that, `maintain` should have merged them. */
const MAX_COINS = 16;

export type Coin = ObjectRef & { balance: bigint };
export type Use = 'gas' | 'funds' | 'object';

type Db = pg.Pool | pg.PoolClient;

interface Row {
  object_id: string;
  version: string;
  digest: string;
  balance: string | null;
  state: 'free' | 'locked';
}

// Queries here order by `o.balance`, qualified: a bare `balance` in ORDER BY would name the select list's
// `balance::text`, and "900" would sort above "5000".
const coin = (r: Row): Coin => ({ objectId: r.object_id, version: BigInt(r.version), digest: r.digest, balance: BigInt(r.balance ?? 0) });

/**
 * For a dry run: coins of `coinType` that together cover `need` (free ones first,
 * largest first; none is locked, a dry run takes no lock), and what the signer
 * holds of that type in all.
 */
export async function coinsCovering(db: Db, ctx: SuiRelayerContext, coinType: string, need: bigint): Promise<{ coins: Coin[]; held: bigint }> {
  const { rows } = await db.query<Row>(
    `select object_id, version::text, digest, balance::text, state from sui_owned_objects o
     where chain = $1 and signer = $2 and coin_type = $3 and balance > 0
     order by o.state = 'free' desc, o.balance desc`,
    [ctx.chain, ctx.signer, coinType],
  );
  const coins: Coin[] = [];
  let covered = 0n;
  for (const row of rows) {
    if (covered >= need || coins.length === MAX_COINS) break;
    coins.push(coin(row));
    covered += coin(row).balance;
  }
  return { coins, held: rows.reduce((sum, r) => sum + BigInt(r.balance ?? 0), 0n) };
}

/**
 * Free coins of `coinType` covering `need`, row-locked for the caller's transaction
 * (other workers skip them): the smallest single coin that covers it, else the
 * largest ones until they do. Undefined when the free coins cannot cover it now
 * (the others are in flight, or there is not enough).
 */
export async function takeCoins(client: pg.PoolClient, ctx: SuiRelayerContext, coinType: string, need: bigint): Promise<Coin[] | undefined> {
  const { rows: single } = await client.query<Row>(
    `select object_id, version::text, digest, balance::text, state from sui_owned_objects o
     where chain = $1 and signer = $2 and coin_type = $3 and state = 'free' and balance >= $4
     order by o.balance limit 1 for update skip locked`,
    [ctx.chain, ctx.signer, coinType, need.toString()],
  );
  if (single[0]) return [coin(single[0])];
  const taken: Coin[] = [];
  let covered = 0n;
  while (covered < need && taken.length < MAX_COINS) {
    const { rows } = await client.query<Row>(
      `select object_id, version::text, digest, balance::text, state from sui_owned_objects o
       where chain = $1 and signer = $2 and coin_type = $3 and state = 'free' and balance > 0 and not (object_id = any($4))
       order by o.balance desc limit 1 for update skip locked`,
      [ctx.chain, ctx.signer, coinType, taken.map((c) => c.objectId)],
    );
    if (!rows[0]) return undefined;
    taken.push(coin(rows[0]));
    covered += coin(rows[0]).balance;
  }
  return covered >= need ? taken : undefined;
}

/** An object the signer owns, row-locked for the caller's transaction if it is free; undefined when it is in use (or unknown). */
export async function takeObject(client: pg.PoolClient, ctx: SuiRelayerContext, objectId: string): Promise<ObjectRef | undefined> {
  const { rows } = await client.query<Row>(
    `select object_id, version::text, digest, balance::text, state from sui_owned_objects
     where chain = $1 and signer = $2 and object_id = $3 and state = 'free' for update skip locked`,
    [ctx.chain, ctx.signer, objectId],
  );
  return rows[0] && coin(rows[0]);
}

/** An object the signer owns as last known (free or not), for a dry run. */
export async function knownObject(db: Db, ctx: SuiRelayerContext, objectId: string): Promise<ObjectRef | undefined> {
  const { rows } = await db.query<Row>('select object_id, version::text, digest, balance::text, state from sui_owned_objects where chain = $1 and signer = $2 and object_id = $3', [
    ctx.chain,
    ctx.signer,
    objectId,
  ]);
  return rows[0] && coin(rows[0]);
}

/** Records an object the chain says the signer owns (GetObject, ListOwnedObjects), keeping the later version of what is known. */
export async function remember(db: Db, ctx: SuiRelayerContext, object: { objectId: string; objectType: string; coinType: string | null; balance: bigint | null } & ObjectRef): Promise<void> {
  await db.query(
    `insert into sui_owned_objects (chain, object_id, signer, object_type, coin_type, balance, version, digest)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (chain, object_id) do update set version = excluded.version, digest = excluded.digest, balance = excluded.balance, signer = excluded.signer, updated_at = now()
       where sui_owned_objects.state = 'free' and sui_owned_objects.version <= excluded.version`,
    [ctx.chain, object.objectId, ctx.signer, object.objectType, object.coinType, object.balance?.toString() ?? null, object.version, object.digest],
  );
}

/**
 * The objects a signed transaction consumes are its own until the chain says
 * otherwise: locked in the caller's transaction, the one that stores the bytes.
 */
export async function lockFor(client: pg.PoolClient, ctx: SuiRelayerContext, transaction: string, intentId: bigint | null, uses: Array<{ objectId: string; as: Use }>): Promise<void> {
  const { rowCount } = await client.query(
    `update sui_owned_objects o set state = 'locked', locked_by_transaction = $3, locked_by_intent = $4, locked_as = u.locked_as, updated_at = now()
     from unnest($2::text[], $5::text[]) as u(object_id, locked_as)
     where o.chain = $1 and o.object_id = u.object_id and o.state = 'free'`,
    [ctx.chain, uses.map((u) => u.objectId), transaction, intentId, uses.map((u) => u.as)],
  );
  if (rowCount !== uses.length) throw new Error(`could not lock the ${uses.length} objects of transaction ${transaction} (${rowCount} were free): they must be row-locked first`);
}

/** How many transactions the signer could start now: its free gas coins that cover a budget. */
export async function freeGasCoins(db: Db, ctx: SuiRelayerContext): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from sui_owned_objects where chain = $1 and signer = $2 and coin_type = $3 and state = 'free' and balance >= $4`,
    [ctx.chain, ctx.signer, SUI_TYPE, ctx.gas.budget.toString()],
  );
  return rows[0]!.n;
}

/** The coin type of a `0x2::coin::Coin<T>` object type (long form), or null for any other object. */
export function coinTypeOf(objectType: string): string | null {
  try {
    const tag = parseStructTag(objectType);
    if (tag.address !== normalizeSuiAddress('0x2') || tag.module !== 'coin' || tag.name !== 'Coin' || tag.typeParams.length !== 1) return null;
    return normalizeStructTag(tag.typeParams[0]!);
  } catch {
    return null;
  }
}
