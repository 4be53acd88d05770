import type { PublicClient } from 'viem';

/** What a transaction pays: EIP-1559 where the chain has a base fee, else a legacy gas price (Polygon Edge-style chains). */
export type Fees = { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 'legacy'; gasPrice: bigint };

export interface FeePolicy {
  /** Never pay more per gas than this (maxFeePerGas, or gasPrice). */
  maxFeePerGas: bigint;
  /** A replacement raises every fee by at least this much (nodes want 10% or more). */
  bumpPercent: number;
}

export class FeeCeilingError extends Error {
  override name = 'FeeCeilingError';
}

/** Fees for a new transaction: twice the base fee plus the node's suggested tip, within the ceiling. */
export async function currentFees(client: PublicClient, policy: FeePolicy): Promise<Fees> {
  const block = await client.getBlock({ blockTag: 'latest' });
  if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) {
    return { type: 'legacy', gasPrice: min(await client.getGasPrice(), policy.maxFeePerGas) };
  }
  const tip = await client.estimateMaxPriorityFeePerGas().catch(() => 1_000_000_000n);
  const maxFeePerGas = min(block.baseFeePerGas * 2n + tip, policy.maxFeePerGas);
  return { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas: min(tip, maxFeePerGas) };
}

/**
 * Fees for a replacement of `previous`: the market now, but at least `bumpPercent`
 * above what was paid, or undefined when that would cross the ceiling.
 */
export function bumpFees(previous: Fees, now: Fees, policy: FeePolicy): Fees | undefined {
  const raise = (value: bigint) => (value * BigInt(100 + policy.bumpPercent) + 99n) / 100n;
  if (previous.type === 'legacy') {
    const gasPrice = max(raise(previous.gasPrice), now.type === 'legacy' ? now.gasPrice : now.maxFeePerGas);
    return gasPrice <= policy.maxFeePerGas ? { type: 'legacy', gasPrice } : undefined;
  }
  const tip = max(raise(previous.maxPriorityFeePerGas), now.type === 'eip1559' ? now.maxPriorityFeePerGas : 0n);
  const maxFeePerGas = max(raise(previous.maxFeePerGas), now.type === 'eip1559' ? now.maxFeePerGas : now.gasPrice, tip);
  return maxFeePerGas <= policy.maxFeePerGas ? { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas: tip } : undefined;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (...values: bigint[]) => values.reduce((a, b) => (a > b ? a : b));
