import type pg from 'pg';
import { keccak256, type Address, type Hex, type TransactionSerializable } from 'viem';
import type { SignedTransaction } from '../../../core/relayer/lifecycle.js';
import type { EvmRelayerContext } from './context.js';
import { feesToJson, type Fees } from './fees.js';

export interface EvmCall {
  intentId: bigint | null;
  nonce: bigint;
  to: Address;
  data?: Hex;
  value: bigint;
  gas: bigint;
}

/**
 * Signs one call at its nonce: the one place a transaction is signed (first
 * tries, replacements and gap fillers alike). The fee fields carry the type
 * explicitly, so a legacy-gas chain gets a type-0 transaction.
 */
export async function signCall(ctx: EvmRelayerContext, call: EvmCall, fees: Fees): Promise<SignedTransaction> {
  const raw = await ctx.account.signTransaction({
    chainId: ctx.conn.chainId,
    nonce: Number(call.nonce),
    to: call.to,
    data: call.data,
    value: call.value,
    gas: call.gas,
    ...feeFields(fees),
  } as TransactionSerializable);
  return { id: keccak256(raw), intentId: call.intentId, sequence: call.nonce, raw: Buffer.from(raw.slice(2), 'hex'), fees: feesToJson(fees) };
}

/** Reserves `count` consecutive nonces; the signer's row stays locked until the caller's transaction ends. */
export async function takeNonces(client: pg.PoolClient, ctx: EvmRelayerContext, count: number): Promise<bigint> {
  const { rows } = await client.query<{ first: bigint }>(
    'update evm_nonces set next_nonce = next_nonce + $3 where chain = $1 and signer = $2 returning next_nonce - $3 as first',
    [ctx.chain, ctx.signer, count],
  );
  if (!rows[0]) throw new Error(`signer ${ctx.signer} has no nonce row on ${ctx.chain}: the relayer was not started for it`);
  return rows[0].first;
}

export function feeFields(fees: Fees) {
  return fees.type === 'eip1559'
    ? { type: 'eip1559' as const, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
    : { type: 'legacy' as const, gasPrice: fees.gasPrice };
}
