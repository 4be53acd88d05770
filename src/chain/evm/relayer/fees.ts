import type { PublicClient } from 'viem';

/** What a transaction pays: EIP-1559 where the chain has a base fee, else a legacy gas price (Polygon Edge-style chains). */
export type Fees = { type: 'eip1559'; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 'legacy'; gasPrice: bigint };

export interface FeePolicy {
  /** EIP-1559 fees, a legacy gas price (chains without London), or whichever the chain's blocks say (a base fee or not). */
  type: 'auto' | 'eip1559' | 'legacy';
  /** Never pay more per gas than this (maxFeePerGas, or gasPrice). */
  maxFeePerGas: bigint;
  /**
   * The configured gas price of a legacy-gas chain: the least a transaction pays (the node's
   * eth_gasPrice below it is raised to it), and what it pays when the node cannot say (an
   * eth_gasPrice error, or 0). Never above maxFeePerGas: the configuration refuses that.
   */
  gasPrice?: bigint;
  /** A replacement raises every fee by at least this much (nodes want 10% or more). */
  bumpPercent: number;
}

export class FeeCeilingError extends Error {
  override name = 'FeeCeilingError';
}

/**
 * Fees for a new transaction, within the ceiling: a legacy gas price (the node's
 * suggestion, at least the configured price), or twice the base fee plus the node's suggested tip.
 */
export async function currentFees(client: PublicClient, policy: FeePolicy): Promise<Fees> {
  if (policy.type === 'legacy') return { type: 'legacy', gasPrice: await legacyGasPrice(client, policy) };
  const block = await client.getBlock({ blockTag: 'latest' });
  if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) {
    if (policy.type === 'eip1559') throw new FeeCeilingError('the chain has no base fee (no EIP-1559): configure its gas type as legacy');
    return { type: 'legacy', gasPrice: await legacyGasPrice(client, policy) };
  }
  const tip = await client.estimateMaxPriorityFeePerGas().catch(() => 1_000_000_000n);
  const maxFeePerGas = min(block.baseFeePerGas * 2n + tip, policy.maxFeePerGas);
  return { type: 'eip1559', maxFeePerGas, maxPriorityFeePerGas: min(tip, maxFeePerGas) };
}

/**
 * The node's eth_gasPrice, never below the configured price, never above the ceiling. Without a
 * configured price the node's answer is all there is, so its error stands.
 */
async function legacyGasPrice(client: PublicClient, policy: FeePolicy): Promise<bigint> {
  const configured = policy.gasPrice;
  // A Polygon Edge node may answer 0 (its price limit unset) or fail: then the configured price is what we know.
  const fromNode = configured === undefined ? await client.getGasPrice() : await client.getGasPrice().catch(() => 0n);
  return min(max(fromNode, configured ?? 0n), policy.maxFeePerGas);
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

/** How a transaction's fees are stored (relayer_transactions.fees): decimal strings. */
export function feesToJson(fees: Fees): Record<string, string> {
  return fees.type === 'legacy'
    ? { gasPrice: fees.gasPrice.toString() }
    : { maxFeePerGas: fees.maxFeePerGas.toString(), maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString() };
}

export function feesFromJson(json: Record<string, string>): Fees {
  return json.gasPrice !== undefined
    ? { type: 'legacy', gasPrice: BigInt(json.gasPrice) }
    : { type: 'eip1559', maxFeePerGas: BigInt(json.maxFeePerGas!), maxPriorityFeePerGas: BigInt(json.maxPriorityFeePerGas!) };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (...values: bigint[]) => values.reduce((a, b) => (a > b ? a : b));
