import { numberToHex, type Address, type Block, type Hex, type PublicClient } from 'viem';
import { fromRpcLog, type RawLog, type RpcLog } from './decode.js';
import { parseRangeLimit } from './range-limit.js';
import type { BlockRef } from '../../../core/chain.js';

/** Logs per eth_getLogs answer to aim for: big enough to amortise round trips, small enough for memory. */
const TARGET_LOGS = 5_000;

/**
 * The eth_getLogs span to ask for next: it doubles while answers stay small, halves
 * when they get large, and drops to what the provider accepts when it refuses a range.
 */
export class AdaptiveRange {
  constructor(
    public size: bigint,
    private readonly max: bigint,
  ) {}

  /** Adjusts to how many logs a range of the current size returned. */
  observe(logs: number): void {
    if (logs < TARGET_LOGS / 2) this.size = this.size * 2n > this.max ? this.max : this.size * 2n;
    else if (logs > TARGET_LOGS * 2 && this.size > 1n) this.size = this.size / 2n;
  }

  shrinkTo(span: bigint): void {
    this.size = span < 1n ? 1n : span;
  }
}

/** Addresses per eth_getLogs: providers refuse, or slow down on, longer lists (many factory children). */
const MAX_ADDRESSES = 1_000;

/**
 * All logs of `addresses` (with `topics`, if given) in [from, to], in one request
 * when the provider allows, else split where the provider says (or in halves) and
 * fetched piece by piece.
 */
export async function fetchLogs(client: PublicClient, addresses: Address[], from: bigint, to: bigint, range: AdaptiveRange, topics?: Hex[][]): Promise<RawLog[]> {
  try {
    return await getLogs(client, { address: addresses, fromBlock: numberToHex(from), toBlock: numberToHex(to), ...(topics ? { topics } : {}) });
  } catch (error) {
    const limit = parseRangeLimit(error, from);
    if (!limit || from === to) throw error;
    const splitAt = limit.suggestedTo !== undefined && limit.suggestedTo >= from && limit.suggestedTo < to ? limit.suggestedTo : from + (to - from) / 2n;
    range.shrinkTo(splitAt - from + 1n);
    const first = await fetchLogs(client, addresses, from, splitAt, range, topics);
    const rest = await fetchLogs(client, addresses, splitAt + 1n, to, range, topics);
    return first.concat(rest);
  }
}

/**
 * eth_getLogs, converted straight from the wire: the backfill reads logs by the
 * hundred thousand, and viem's formatter would convert each one a second time.
 * No address means no logs (an empty list would ask for every log of the chain);
 * long lists go in several requests, merged back into chain order.
 */
export async function getLogs(
  client: PublicClient,
  filter: { address: Address[]; topics?: Hex[][] } & ({ fromBlock: Hex; toBlock: Hex } | { blockHash: Hex }),
): Promise<RawLog[]> {
  if (filter.address.length === 0) return [];
  const chunks: Address[][] = [];
  for (let i = 0; i < filter.address.length; i += MAX_ADDRESSES) chunks.push(filter.address.slice(i, i + MAX_ADDRESSES));
  const answers = await Promise.all(
    chunks.map(async (address) => ((await client.request({ method: 'eth_getLogs', params: [{ ...filter, address }] as never })) as unknown as RpcLog[]).map(fromRpcLog)),
  );
  if (answers.length === 1) return answers[0]!;
  return answers.flat().sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
}

export function toHeader(block: Block): BlockRef {
  if (block.number === null || block.hash === null) throw new Error('pending block where a mined one was expected');
  return { number: block.number, hash: lower(block.hash), parentHash: lower(block.parentHash), timestamp: block.timestamp };
}

/** Headers of the given blocks; concurrent requests are sent as JSON-RPC batches by the transport. */
export async function fetchHeaders(client: PublicClient, numbers: bigint[]): Promise<Map<bigint, BlockRef>> {
  const headers = await Promise.all(numbers.map((blockNumber) => client.getBlock({ blockNumber }).then(toHeader)));
  return new Map(headers.map((h) => [h.number, h]));
}

export function lower(hex: Hex): Hex {
  return hex.toLowerCase() as Hex;
}
