import type pg from 'pg';
import { hostname } from 'node:os';
import { keccak256, numberToHex, type Address, type Hex, type TransactionSerializable } from 'viem';

import { backoffSeconds, type RelayerContext } from './context.js';
import { currentFees, type Fees } from './fees.js';
import { decodeRevert } from './revert.js';
import { callHandlers } from './settle.js';
import type { IntentError } from './types.js';
import { inTransaction } from '../db/transaction.js';

interface PendingIntent {
  id: bigint;
  kind: string;
  to_address: Address;
  data: Hex;
  value: string;
  attempts: number;
}

/** Gas limit = estimate × 1.2: estimates are exact for the state they ran on, and the state moves. */
const GAS_HEADROOM_PERCENT = 120n;

/**
 * pending → signed, for a batch of intents: simulate each call (a revert fails the
 * intent with its decoded reason and uses no nonce), then, in the same transaction,
 * take consecutive nonces under the signer's row lock, sign, and store the signed
 * bytes. Nothing is broadcast here: bytes exist in the database before they exist
 * anywhere else, so a crash at any point can only lead to sending these same bytes.
 */
export async function prepareIntents(ctx: RelayerContext): Promise<number> {
  return inTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<PendingIntent>(
      `select id, kind, to_address, data, value::text, attempts from relayer_intents
       where chain_id = $1 and signer = $2 and state = 'pending' and next_attempt_at <= now()
       order by id limit $3 for update skip locked`,
      [ctx.chain.chainId, ctx.signer, ctx.batchSize],
    );
    if (rows.length === 0) return 0;

    // eth_estimateGas runs the call as eth_call does and reports a revert the same way:
    // one round trip both simulates and sizes it. Sent together, as one JSON-RPC batch.
    const estimates = await Promise.allSettled(
      rows.map((intent) =>
        ctx.chain.batchClient.request({
          method: 'eth_estimateGas',
          // Against the latest block: nodes default to "pending", which some (anvil) build by executing
          // their whole pool first, thousands of our own transactions under load.
          params: [{ from: ctx.signer, to: intent.to_address, data: intent.data, value: numberToHex(BigInt(intent.value)) }, 'latest'],
        }),
      ),
    );
    const ready: Array<{ intent: PendingIntent; gas: bigint }> = [];
    const reverted: Array<{ intent: PendingIntent; error: IntentError }> = [];
    const transient: Array<{ intent: PendingIntent; error: IntentError }> = [];
    rows.forEach((intent, i) => {
      const outcome = estimates[i]!;
      if (outcome.status === 'fulfilled') {
        ready.push({ intent, gas: (BigInt(outcome.value) * GAS_HEADROOM_PERCENT) / 100n });
        return;
      }
      const revert = decodeRevert(outcome.reason, ctx.kinds.get(intent.kind)?.abi ?? []);
      if (revert) reverted.push({ intent, error: revert });
      else transient.push({ intent, error: { name: 'RpcError', message: (outcome.reason as Error).message.split('\n')[0]! } });
    });

    if (reverted.length > 0) await failReverted(client, ctx, reverted);
    if (transient.length > 0) await postpone(client, transient);
    if (ready.length > 0) await signAndStore(client, ctx, ready);
    return rows.length;
  });
}

async function signAndStore(client: pg.PoolClient, ctx: RelayerContext, ready: Array<{ intent: PendingIntent; gas: bigint }>): Promise<void> {
  const fees = await currentFees(ctx.chain.publicClient, ctx.fees);
  const first = await takeNonces(client, ctx, ready.length);
  const signed = await Promise.all(
    ready.map(async ({ intent, gas }, i) => {
      const nonce = first + BigInt(i);
      const raw = await ctx.account.signTransaction({
        chainId: ctx.chain.chainId,
        nonce: Number(nonce),
        to: intent.to_address,
        data: intent.data,
        value: BigInt(intent.value),
        gas,
        ...feeFields(fees),
      } as TransactionSerializable);
      return { id: intent.id, nonce, gas, raw, hash: keccak256(raw) };
    }),
  );
  await storeTransactions(client, ctx, signed, fees);
  await client.query(
    `update relayer_intents i set state = 'signed', nonce = u.nonce, gas_limit = u.gas, error = null, updated_at = now()
     from unnest($1::bigint[], $2::bigint[], $3::numeric[]) as u(id, nonce, gas)
     where i.id = u.id`,
    [signed.map((s) => s.id), signed.map((s) => s.nonce), signed.map((s) => s.gas.toString())],
  );
}

/** Reserves `count` consecutive nonces; the signer's row stays locked until the caller's transaction ends. */
export async function takeNonces(client: pg.PoolClient, ctx: RelayerContext, count: number): Promise<bigint> {
  const { rows } = await client.query<{ first: bigint }>(
    `update relayer_signers set next_nonce = next_nonce + $3 where chain_id = $1 and address = $2 returning next_nonce - $3 as first`,
    [ctx.chain.chainId, ctx.signer, count],
  );
  if (!rows[0]) throw new Error(`signer ${ctx.signer} has no nonce row on chain ${ctx.chain.chainId}: the relayer was not started for it`);
  return rows[0].first;
}

export async function storeTransactions(
  client: pg.PoolClient,
  ctx: RelayerContext,
  signed: Array<{ id: bigint | null; nonce: bigint; raw: Hex; hash: Hex }>,
  fees: Fees,
): Promise<void> {
  await client.query(
    `insert into relayer_transactions (hash, intent_id, chain_id, signer, nonce, raw, max_fee_per_gas, max_priority_fee_per_gas, gas_price, signed_by)
     select u.hash, u.intent_id, $1, $2, u.nonce, u.raw, $3, $4, $5, $10
     from unnest($6::text[], $7::bigint[], $8::bigint[], $9::text[]) as u(hash, intent_id, nonce, raw)`,
    [
      ctx.chain.chainId,
      ctx.signer,
      fees.type === 'eip1559' ? fees.maxFeePerGas.toString() : null,
      fees.type === 'eip1559' ? fees.maxPriorityFeePerGas.toString() : null,
      fees.type === 'legacy' ? fees.gasPrice.toString() : null,
      signed.map((s) => s.hash),
      signed.map((s) => s.id),
      signed.map((s) => s.nonce),
      signed.map((s) => s.raw),
      SIGNED_BY,
    ],
  );
  ctx.metrics.signed(signed.length);
}

const SIGNED_BY = `${hostname()}:${process.pid}`;

export function feeFields(fees: Fees) {
  return fees.type === 'eip1559'
    ? { type: 'eip1559' as const, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
    : { type: 'legacy' as const, gasPrice: fees.gasPrice };
}

async function failReverted(client: pg.PoolClient, ctx: RelayerContext, reverted: Array<{ intent: PendingIntent; error: IntentError }>): Promise<void> {
  await client.query(
    `update relayer_intents i set state = 'failed', error = u.error, updated_at = now()
     from unnest($1::bigint[], $2::jsonb[]) as u(id, error) where i.id = u.id`,
    [reverted.map((r) => r.intent.id), reverted.map((r) => JSON.stringify(r.error))],
  );
  await callHandlers(client, ctx, reverted.map((r) => ({ intentId: r.intent.id, hook: 'onFailed' as const })));
  ctx.metrics.settled('failed', reverted.length);
}

async function postpone(client: pg.PoolClient, transient: Array<{ intent: PendingIntent; error: IntentError }>): Promise<void> {
  await client.query(
    `update relayer_intents i set attempts = attempts + 1, error = u.error, next_attempt_at = now() + make_interval(secs => u.delay), updated_at = now()
     from unnest($1::bigint[], $2::jsonb[], $3::float8[]) as u(id, error, delay) where i.id = u.id`,
    [transient.map((t) => t.intent.id), transient.map((t) => JSON.stringify(t.error)), transient.map((t) => backoffSeconds(t.intent.attempts))],
  );
}
