import type pg from 'pg';
import { Transaction, TransactionDataBuilder } from '@mysten/sui/transactions';
import { storeTransactions } from '../../../core/relayer/intents.js';
import { inTransaction } from '../../../db/transaction.js';
import type { SuiRelayerContext } from './context.js';
import { applyEffects, releaseDead } from './effects.js';
import { seal } from './envelope.js';
import { coinTypeOf, lockFor, remember, SUI_TYPE, type Coin } from './objects.js';
import { objectState, getObjects, getTransactions, ownedInputs, referenceGasPrice, spent } from './reads.js';
import { executeStored } from './send.js';

/** Advisory lock class of a signer's pool housekeeping (the key is the chain and signer's hash): one process at a time. */
const POOL_LOCK = 0x53554950;
/** A gas coin is worth splitting off only if it can pay this many budgets. */
const MIN_SHARE_BUDGETS = 10n;
/** Dust merged in one transaction at most. */
const MAX_MERGED = 100;

/**
 * The signer's gas coin pool, kept in step with the chain: held objects whose
 * transaction is settled are freed (reconcile), the signer's objects are listed
 * (sync), dust is merged into the largest free coin, and the largest free coin is
 * split until the signer has `poolSize` coins that can each pay a budget. Merging
 * and splitting are the family's own transactions (intent null), run here, one
 * process per signer at a time (an advisory lock): their bytes are stored and
 * their coins locked before they are sent, exactly like an intent's, so a crash
 * in the middle ends with the same bytes sent again, never with a second
 * transaction on those coins. `wait`: wait for another process's housekeeping to
 * end (at start) rather than skip it.
 */
export async function keepPool(ctx: SuiRelayerContext, options: { wait: boolean }): Promise<void> {
  const lock = await ctx.pool.connect();
  const key = `${ctx.chain}/${ctx.signer}`;
  try {
    if (options.wait) await lock.query('select pg_advisory_lock($1, hashtext($2))', [POOL_LOCK, key]);
    else if (!(await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [POOL_LOCK, key])).rows[0]!.ok) return;
    try {
      await reconcile(ctx, ctx.pool);
      await syncWithChain(ctx);
      if (await mergeDust(ctx)) await syncWithChain(ctx);
      if (await splitGas(ctx)) await syncWithChain(ctx);
    } finally {
      await lock.query('select pg_advisory_unlock($1, hashtext($2))', [POOL_LOCK, key]);
    }
  } finally {
    lock.release();
  }
}

/**
 * Crash recovery and the end of every held object: each transaction holding
 * objects is looked up. Executed: its effects free them (at their new versions).
 * Unknown to the chain, with an object it consumes spent by another transaction:
 * it can never execute, and its objects are freed at the chain's versions.
 * Unknown with all its objects unspent: it may still execute, so they stay held
 * (the core sends an intent's bytes again; the family's own are sent again here).
 */
export async function reconcile(ctx: SuiRelayerContext, db: pg.Pool | pg.PoolClient): Promise<void> {
  await releaseExpiredSponsorships(ctx, db);
  // A live sponsorship is not sent yet (the user has still to sign it): nothing to ask the chain.
  const { rows } = await db.query<{ transaction: string; intent: bigint | null; object_id: string; version: string }>(
    `select locked_by_transaction as transaction, locked_by_intent as intent, object_id, version::text from sui_owned_objects
     where chain = $1 and signer = $2 and state = 'locked' and reserved_until is null`,
    [ctx.chain, ctx.signer],
  );
  if (rows.length === 0) return;
  const held = new Map<string, typeof rows>();
  for (const row of rows) held.set(row.transaction, [...(held.get(row.transaction) ?? []), row]);
  const answers = await getTransactions(ctx, [...held.keys()]);
  const unheardOf: string[] = [];
  for (const [digest, objects] of held) {
    const answer = answers.get(digest);
    if (answer && answer !== 'unknown' && answer.effects) {
      await applyEffects(db, ctx, answer.effects);
      if (objects[0]!.intent === null) await db.query("update relayer_transactions set status = 'mined' where id = $1", [digest]);
    } else if (answer === null) unheardOf.push(digest);
  }
  if (unheardOf.length === 0) return;
  // What each consumes, from its stored bytes where they are (a user's objects, for a transaction the user signed), else the objects held.
  const { rows: stored } = await db.query<{ id: string; raw: Buffer }>('select id, raw from relayer_transactions where id = any($1)', [unheardOf]);
  const consumed = new Map<string, Array<{ objectId: string; version: bigint; owner: string }>>(
    unheardOf.map((d) => [d, held.get(d)!.map((o) => ({ objectId: o.object_id, version: BigInt(o.version), owner: ctx.signer }))]),
  );
  for (const row of stored) consumed.set(row.id, ownedInputs(row.raw));
  const states = await getObjects(ctx, [...new Set([...unheardOf.flatMap((d) => held.get(d)!.map((o) => o.object_id)), ...[...consumed.values()].flat().map((r) => r.objectId)])]);
  const dead: string[] = [];
  for (const digest of unheardOf) {
    const objects = held.get(digest)!;
    const refs = consumed.get(digest)!;
    const now = refs.map((r) => states.get(r.objectId));
    const heldNow = objects.map((o) => states.get(o.object_id));
    if ([...now, ...heldNow].some((answer) => answer === undefined || answer === 'unknown')) continue;
    if (refs.some((r, i) => spent(ctx, r.version, now[i]!, r.owner))) dead.push(digest);
    else if (objects[0]!.intent === null) await resendOwn(ctx, db, digest);
  }
  // Asked again after the objects were read: one that executed meanwhile is not dead.
  const again = await getTransactions(ctx, dead);
  for (const digest of dead.filter((d) => again.get(d) === null)) {
    const current = new Map(
      held.get(digest)!.map((o) => {
        const state = states.get(o.object_id);
        const ours = state && state !== 'unknown' && state.owner === ctx.signer ? state : null;
        return [o.object_id, ours && { version: ours.version, digest: ours.digest, balance: ours.balance }] as const;
      }),
    );
    ctx.logger.warn({ transaction: digest }, 'a transaction of this signer can never execute (an object it consumes was spent by another): its objects are free again');
    await releaseDead(db, ctx, digest, current);
  }
}

/**
 * Gas coins reserved for sponsored transactions that were never submitted in time are
 * free again. Safe: the sponsor signs a sponsored transaction only once it is
 * submitted (the reservation then belongs to its intent), so an expired one can never
 * execute, and its coin is still at the version it was reserved at.
 */
async function releaseExpiredSponsorships(ctx: SuiRelayerContext, db: pg.Pool | pg.PoolClient): Promise<void> {
  const { rowCount } = await db.query(
    `update sui_owned_objects set state = 'free', locked_by_transaction = null, locked_as = null, reserved_until = null, updated_at = now()
     where chain = $1 and signer = $2 and state = 'locked' and locked_by_intent is null and reserved_until <= now()`,
    [ctx.chain, ctx.signer],
  );
  if (rowCount) ctx.logger.info({ coins: rowCount }, 'gas coins reserved for sponsored transactions never submitted are free again');
}

async function resendOwn(ctx: SuiRelayerContext, db: pg.Pool | pg.PoolClient, digest: string): Promise<void> {
  const { rows } = await db.query<{ raw: Buffer }>('select raw from relayer_transactions where id = $1', [digest]);
  if (!rows[0]) return;
  const failure = await executeStored(ctx, { id: digest, raw: rows[0].raw });
  if (failure) ctx.logger.warn({ transaction: digest, error: failure.message }, 'gas coin housekeeping transaction not executed yet; sent again');
}

/**
 * The signer's owned objects as the chain lists them: new ones recorded, free ones
 * moved to a later version (never back to an earlier one: our own effects may be
 * newer than a listing), free ones the chain no longer lists forgotten. Held
 * objects are left to reconcile.
 */
export async function syncWithChain(ctx: SuiRelayerContext): Promise<void> {
  const listed: string[] = [];
  let pageToken: Uint8Array | undefined;
  do {
    const { response } = await ctx.client.stateService.listOwnedObjects({
      owner: ctx.signer,
      pageSize: 1000,
      ...(pageToken ? { pageToken } : {}),
      readMask: { paths: ['object_id', 'version', 'digest', 'owner', 'object_type', 'balance'] },
    });
    for (const object of response.objects) {
      const state = objectState(object);
      listed.push(state.objectId);
      await remember(ctx.pool, ctx, { ...state, coinType: coinTypeOf(state.objectType) });
    }
    pageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
  } while (pageToken);
  await ctx.pool.query(`delete from sui_owned_objects where chain = $1 and signer = $2 and state = 'free' and not (object_id = any($3))`, [ctx.chain, ctx.signer, listed]);
}

/** Free SUI coins too small to pay a budget are merged into the largest free coin. */
async function mergeDust(ctx: SuiRelayerContext): Promise<boolean> {
  const { rows } = await ctx.pool.query<{ object_id: string; version: string; digest: string; balance: string }>(
    `select object_id, version::text, digest, balance::text from sui_owned_objects o
     where chain = $1 and signer = $2 and coin_type = $3 and state = 'free' and balance is not null order by o.balance desc`,
    [ctx.chain, ctx.signer, SUI_TYPE],
  );
  const coins = rows.map((r): Coin => ({ objectId: r.object_id, version: BigInt(r.version), digest: r.digest, balance: BigInt(r.balance) }));
  const target = coins[0];
  const dust = coins.filter((c) => c.balance < ctx.gas.budget).slice(0, MAX_MERGED);
  if (!target || target.balance < ctx.gas.budget || dust.length === 0) return false;
  ctx.logger.info({ dust: dust.length, into: target.objectId }, 'merging dust gas coins');
  return ownTransaction(ctx, target, dust, (tx) => tx.mergeCoins(tx.gas, dust.map((c) => tx.objectRef({ objectId: c.objectId, version: c.version.toString(), digest: c.digest }))));
}

/** The largest free coin is split so that the signer has `poolSize` coins that can each pay a budget (fewer if it cannot spare that much). */
async function splitGas(ctx: SuiRelayerContext): Promise<boolean> {
  const { rows } = await ctx.pool.query<{ object_id: string; version: string; digest: string; balance: string; state: string }>(
    `select object_id, version::text, digest, balance::text, state from sui_owned_objects o
     where chain = $1 and signer = $2 and coin_type = $3 and balance >= $4 order by o.balance desc`,
    [ctx.chain, ctx.signer, SUI_TYPE, ctx.gas.budget.toString()],
  );
  const largest = rows.find((r) => r.state === 'free');
  if (!largest || rows.length >= ctx.gas.poolSize) return false;
  const balance = BigInt(largest.balance);
  let pieces = ctx.gas.poolSize - rows.length;
  const share = () => (balance - ctx.gas.budget) / BigInt(pieces + 1);
  while (pieces > 0 && share() < ctx.gas.budget * MIN_SHARE_BUDGETS) pieces--;
  if (pieces === 0) return false;
  const amount = share();
  ctx.logger.info({ coin: largest.object_id, pieces, amount: amount.toString() }, 'splitting a gas coin to fill the pool');
  const coin: Coin = { objectId: largest.object_id, version: BigInt(largest.version), digest: largest.digest, balance };
  return ownTransaction(ctx, coin, [], (tx) => {
    const parts = tx.splitCoins(
      tx.gas,
      Array.from({ length: pieces }, () => tx.pure.u64(amount)),
    );
    tx.transferObjects(
      Array.from({ length: pieces }, (_, i) => parts[i]!),
      tx.pure.address(ctx.signer),
    );
  });
}

/**
 * One of the family's own transactions, paid with `gas` and consuming `inputs`:
 * its coins locked and its bytes stored in one commit, then sent and its effects
 * applied. False when the coins were taken meanwhile, or it did not execute now
 * (reconcile sends it again).
 */
async function ownTransaction(ctx: SuiRelayerContext, gas: Coin, inputs: Coin[], compose: (tx: Transaction) => void): Promise<boolean> {
  const price = await referenceGasPrice(ctx);
  const stored = await inTransaction(ctx.pool, async (client) => {
    const ids = [gas, ...inputs].map((c) => c.objectId);
    const { rows } = await client.query<{ object_id: string }>(
      `select object_id from sui_owned_objects where chain = $1 and object_id = any($2) and state = 'free' and version = any($3) for update skip locked`,
      [ctx.chain, ids, [gas, ...inputs].map((c) => c.version)],
    );
    if (rows.length !== ids.length) return undefined;
    const tx = new Transaction();
    tx.setSender(ctx.signer);
    tx.setGasPayment([{ objectId: gas.objectId, version: gas.version.toString(), digest: gas.digest }]);
    tx.setGasPrice(price);
    tx.setGasBudget(ctx.gas.budget);
    compose(tx);
    const bytes = await tx.build();
    const { signature } = await ctx.keypair.signTransaction(bytes);
    const digest = TransactionDataBuilder.getDigestFromBytes(bytes);
    const raw = seal(bytes, [signature]);
    await storeTransactions(client, ctx.chain, ctx.signer, [{ id: digest, intentId: null, sequence: null, raw, fees: { gasPrice: price.toString(), gasBudget: ctx.gas.budget.toString() } }]);
    await lockFor(client, ctx, digest, null, [{ objectId: gas.objectId, as: 'gas' }, ...inputs.map((c) => ({ objectId: c.objectId, as: 'object' as const }))]);
    return { id: digest, raw };
  });
  if (!stored) return false;
  const failure = await executeStored(ctx, stored);
  if (failure) {
    ctx.logger.warn({ transaction: stored.id, error: failure.message }, 'gas coin housekeeping transaction not executed; it is sent again at the next pass');
    return false;
  }
  await ctx.pool.query("update relayer_transactions set status = 'mined' where id = $1", [stored.id]);
  return true;
}
