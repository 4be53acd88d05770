import type pg from 'pg';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import type { SuiRelayerContext } from './context.js';
import { parseCall, spending } from './call.js';
import { SUI_TYPE } from './objects.js';

const { ChangedObject_OutputObjectState: OutputState } = GrpcTypes;

interface LockedRow {
  object_id: string;
  coin_type: string | null;
  balance: string | null;
  locked_as: 'gas' | 'funds' | 'object';
  payload: string | null;
  sender: string | null;
}

/**
 * A transaction's effects are final the moment it executes (a checkpoint only
 * orders it): every object it held is free again, at the version the effects
 * give, or forgotten when it was deleted or given away. Balances follow from what
 * was paid: the gas coins are merged into the first and charged the net gas (and
 * the SUI the call spent, if it succeeded); the funds of a call that succeeded
 * lose what was split off them; a failed call spent only gas. What cannot be
 * known that way (an object passed to a Move call; the family's own transactions)
 * is left null, and the next listing of the signer's objects fills it in.
 * Idempotent: only objects still held by `digest` move.
 */
export async function applyEffects(db: pg.Pool | pg.PoolClient, ctx: SuiRelayerContext, effects: GrpcTypes.TransactionEffects): Promise<void> {
  const digest = effects.transactionDigest;
  if (!digest) return;
  const { rows } = await db.query<LockedRow>(
    `select o.object_id, o.coin_type, o.balance::text, o.locked_as, i.payload, i.sender
     from sui_owned_objects o left join relayer_intents i on i.id = o.locked_by_intent
     where o.chain = $1 and o.locked_by_transaction = $2`,
    [ctx.chain, digest],
  );
  if (rows.length === 0) return;
  const { payload, sender } = rows[0]!;
  // A sponsored transaction the user signed spends nothing of the sponsor's but gas (its commands may not touch the gas coin).
  const spent = payload === null ? undefined : sender !== null ? new Map<string, bigint>() : spending(parseCall(payload));
  const success = effects.status?.success === true;
  const gasUsed = effects.gasUsed;
  const netGas = (gasUsed?.computationCost ?? 0n) + (gasUsed?.storageCost ?? 0n) - (gasUsed?.storageRebate ?? 0n);
  const sum = (as: string, type?: string) => rows.filter((r) => r.locked_as === as && (type === undefined || r.coin_type === type)).reduce((s, r) => s + BigInt(r.balance ?? 0), 0n);
  const changed = new Map(effects.changedObjects.map((c) => [c.objectId, c]));

  const balanceAfter = (row: LockedRow): bigint | null => {
    if (spent === undefined) return null;
    if (row.locked_as === 'gas') return row.object_id === effects.gasObject?.objectId ? sum('gas') - netGas - (success ? (spent.get(SUI_TYPE) ?? 0n) : 0n) : null;
    if (row.locked_as === 'funds') return success ? sum('funds', row.coin_type!) - (spent.get(row.coin_type!) ?? 0n) : BigInt(row.balance ?? 0);
    return null;
  };

  const kept: Array<{ objectId: string; version: bigint; digest: string; balance: string | null }> = [];
  const gone: string[] = [];
  for (const row of rows) {
    const change = changed.get(row.object_id);
    if (!change) {
      // Not written (read only): the version it was locked at is still live.
      kept.push({ objectId: row.object_id, version: -1n, digest: '', balance: row.balance });
      continue;
    }
    const ours = change.outputState === OutputState.OBJECT_WRITE && change.outputOwner?.address !== undefined && normalizeSuiAddress(change.outputOwner.address) === ctx.signer;
    if (!ours) {
      gone.push(row.object_id);
      continue;
    }
    kept.push({ objectId: row.object_id, version: change.outputVersion!, digest: change.outputDigest!, balance: balanceAfter(row)?.toString() ?? null });
  }
  await db.query(
    `update sui_owned_objects o set state = 'free', locked_by_transaction = null, locked_by_intent = null, locked_as = null, updated_at = now(),
       version = case when u.version < 0 then o.version else u.version end,
       digest = case when u.version < 0 then o.digest else u.digest end,
       balance = u.balance
     from unnest($3::text[], $4::bigint[], $5::text[], $6::numeric[]) as u(object_id, version, digest, balance)
     where o.chain = $1 and o.locked_by_transaction = $2 and o.object_id = u.object_id`,
    [ctx.chain, digest, kept.map((k) => k.objectId), kept.map((k) => k.version), kept.map((k) => k.digest), kept.map((k) => k.balance)],
  );
  if (gone.length > 0) await db.query('delete from sui_owned_objects where chain = $1 and locked_by_transaction = $2 and object_id = any($3)', [ctx.chain, digest, gone]);
}

/**
 * Frees objects held by a transaction that can never execute (one of its inputs
 * was spent by another), at the chain's current state of each: `current` gives it
 * (null: gone, or no longer the signer's).
 */
export async function releaseDead(db: pg.Pool | pg.PoolClient, ctx: SuiRelayerContext, digest: string, current: Map<string, { version: bigint; digest: string; balance: bigint | null } | null>): Promise<void> {
  const kept = [...current].filter(([, state]) => state !== null) as Array<[string, { version: bigint; digest: string; balance: bigint | null }]>;
  const gone = [...current].filter(([, state]) => state === null).map(([id]) => id);
  await db.query(
    `update sui_owned_objects o set state = 'free', locked_by_transaction = null, locked_by_intent = null, locked_as = null, updated_at = now(),
       version = u.version, digest = u.digest, balance = u.balance
     from unnest($3::text[], $4::bigint[], $5::text[], $6::numeric[]) as u(object_id, version, digest, balance)
     where o.chain = $1 and o.locked_by_transaction = $2 and o.object_id = u.object_id`,
    [ctx.chain, digest, kept.map(([id]) => id), kept.map(([, s]) => s.version), kept.map(([, s]) => s.digest), kept.map(([, s]) => s.balance?.toString() ?? null)],
  );
  if (gone.length > 0) await db.query('delete from sui_owned_objects where chain = $1 and locked_by_transaction = $2 and object_id = any($3)', [ctx.chain, digest, gone]);
}
