import type pg from 'pg';
import type { SuiGrpcClient } from '@mysten/sui/grpc';
import { Transaction, TransactionDataBuilder } from '@mysten/sui/transactions';
import { normalizeSuiAddress, toBase64 } from '@mysten/sui/utils';
import type { ChainKey } from '../../../core/chain.js';
import { inTransaction } from '../../../db/transaction.js';
import type { SuiRelayerContext } from './context.js';
import { executionError } from './errors.js';
import { lockFor, SUI_TYPE, takeCoins } from './objects.js';
import { parseTransactionData, usesGasCoin } from './signed.js';

/** What a user's transaction does, for the platform to pay its gas: built by the app before the user signs. */
export interface SponsorRequest {
  chain: ChainKey;
  /** The platform signer that pays the gas (an address of `outbox.signers(chain)`): its relayer sends the transaction. */
  sponsor: string;
  /** The user: the transaction's sender, who signs it on their device. */
  sender: string;
  /**
   * The user's commands: a Transaction (its sender, gas and budget are set here; objects it names
   * by id alone are resolved through `client`), or TransactionKind BCS bytes. They may not use the gas coin.
   */
  transaction: Transaction | Uint8Array;
  /** The most the sponsor pays, in MIST (default 50,000,000). What is signed is the dry run's cost plus 20%, within it. */
  maxGasBudget?: bigint;
  /** How long the gas coin is held for the user's signature (default 10 minutes): submitted later, the transaction is refused. */
  ttlMs?: number;
}

export interface SponsoredTransaction {
  /** The TransactionData for the user to sign (base64 BCS), then to submit as `signed: { transaction, signatures: [userSignature] }`. */
  transaction: string;
  digest: string;
  gasBudget: bigint;
  expiresAt: Date;
}

export class SponsorshipError extends Error {
  override name = 'SponsorshipError';
}

const DEFAULT_BUDGET = 50_000_000n;
const DEFAULT_TTL_MS = 10 * 60_000;
const BUDGET_HEADROOM_PERCENT = 120n;
const MIN_BUDGET_UNITS = 1_000n;

/**
 * Prepares a transaction the platform sponsors, for the user to sign: a free gas
 * coin of the sponsor's pool is reserved for it (locked by the transaction's
 * digest, as the relayer locks a coin for its own transactions, so no other
 * transaction uses it meanwhile: invariant 3), the commands are dry-run with it
 * (a Move abort is refused now, and the budget is what it costs plus headroom),
 * and the TransactionData bytes are returned. The user signs them and the app
 * submits them to the outbox (`signed`), which binds the reserved coin to the
 * intent; the sponsor's relayer adds its signature and executes them once, and
 * their effects free the coin. Not submitted within `ttlMs`, the reservation
 * ends and the coin is free again (the sponsor never signs an expired one).
 * Throws SponsorshipError when no gas coin of the sponsor is free now, or the dry run fails.
 */
export async function sponsorTransaction(pool: pg.Pool, client: SuiGrpcClient, request: SponsorRequest): Promise<SponsoredTransaction> {
  const sponsor = normalizeSuiAddress(request.sponsor);
  const sender = normalizeSuiAddress(request.sender);
  if (sponsor === sender) throw new SponsorshipError('the sponsor cannot sponsor its own transaction');
  const maxBudget = request.maxGasBudget ?? DEFAULT_BUDGET;
  const kind = request.transaction instanceof Uint8Array ? request.transaction : await request.transaction.build({ client, onlyTransactionKind: true });
  const price = BigInt((await client.getReferenceGasPrice()).referenceGasPrice);
  // Only what takeCoins and lockFor read of a relayer's context: the chain and whose coins.
  const ctx = { chain: request.chain, signer: sponsor } as SuiRelayerContext;

  return inTransaction(pool, async (db) => {
    const [coin] = (await takeCoins(db, ctx, SUI_TYPE, maxBudget)) ?? [];
    if (!coin) throw new SponsorshipError(`no gas coin of ${sponsor} on ${request.chain} is free for a budget of ${maxBudget} MIST now (all in flight, or the pool is empty): try again shortly`);
    const build = (budget: bigint) => {
      const tx = Transaction.fromKind(kind);
      tx.setSender(sender);
      tx.setGasOwner(sponsor);
      tx.setGasPayment([{ objectId: coin.objectId, version: coin.version.toString(), digest: coin.digest }]);
      tx.setGasPrice(price);
      tx.setGasBudget(budget);
      return tx.build();
    };
    const trial = await build(maxBudget);
    if (usesGasCoin(parseTransactionData(trial).kind.ProgrammableTransaction!)) throw new SponsorshipError("a sponsored transaction's commands may not use the gas coin (the sponsor's SUI)");
    const { response } = await client.transactionExecutionService.simulateTransaction({ transaction: { bcs: { value: trial } }, readMask: { paths: ['transaction.effects'] } });
    const effects = response.transaction?.effects;
    if (!effects?.status) throw new SponsorshipError('the dry run answered without effects');
    if (!effects.status.success) throw new SponsorshipError(`the transaction would fail: ${executionError(effects.status.error, maxBudget).message}`);
    const used = (((effects.gasUsed?.computationCost ?? 0n) + (effects.gasUsed?.storageCost ?? 0n)) * BUDGET_HEADROOM_PERCENT) / 100n;
    const budget = used < MIN_BUDGET_UNITS * price ? MIN_BUDGET_UNITS * price : used > maxBudget ? maxBudget : used;
    const bytes = await build(budget);
    const digest = TransactionDataBuilder.getDigestFromBytes(bytes);
    await lockFor(db, ctx, digest, null, [{ objectId: coin.objectId, as: 'gas' }]);
    const { rows } = await db.query<{ reserved_until: Date }>(
      `update sui_owned_objects set reserved_until = now() + make_interval(secs => $3) where chain = $1 and object_id = $2 returning reserved_until`,
      [request.chain, coin.objectId, (request.ttlMs ?? DEFAULT_TTL_MS) / 1000],
    );
    return { transaction: toBase64(bytes), digest, gasBudget: budget, expiresAt: rows[0]!.reserved_until };
  });
}
