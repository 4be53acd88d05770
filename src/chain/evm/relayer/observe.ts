import type { Hex, TransactionReceipt } from 'viem';
import type { InFlightIntent, Observation } from '../../../core/relayer/lifecycle.js';
import type { DecodedEvent, IntentError } from '../../../core/relayer/types.js';
import { createDecoder, toJson } from '../indexer/decode.js';
import { abiOf, type EvmRelayerContext } from './context.js';
import { decodeRevert } from './revert.js';

/**
 * What the chain says of each intent in flight, in few calls: the mined-nonce
 * count of the signer (and of each user whose signed transaction is in flight:
 * its nonce is in the user's sequence); one header per block holding included
 * intents; receipts only where something can have changed (a transaction that
 * can be mined, its nonce being below its sender's count, or an included one
 * whose block was replaced). A failed read, or a block the node has not reached, decides nothing.
 */
export async function observe(ctx: EvmRelayerContext, intents: InFlightIntent[]): Promise<Map<bigint, Observation>> {
  const senders = [ctx.signer, ...new Set(intents.flatMap((i) => (i.sender === null ? [] : [i.sender])))];
  const counts = await Promise.all(senders.map((address) => ctx.conn.publicClient.getTransactionCount({ address: address as Hex, blockTag: 'latest' })));
  const nonces = new Map(senders.map((address, i) => [address, BigInt(counts[i]!)]));
  const chainNonceOf = (intent: InFlightIntent) => nonces.get(intent.sender ?? ctx.signer)!;
  const blocks = [...new Set(intents.filter((i) => i.state === 'included').map((i) => i.blockNumber!))];
  const canonical = new Map(await Promise.all(blocks.map(async (n) => [n, await canonicalHash(ctx, n)] as const)));
  const blockReplaced = (intent: InFlightIntent) => {
    const seen = canonical.get(intent.blockNumber!);
    return seen !== undefined && seen !== intent.blockHash;
  };
  const asked = intents.filter((i) => (i.state === 'included' ? blockReplaced(i) : i.sequence < chainNonceOf(i)));
  const hashes = asked.flatMap((i) => i.transactions.map((t) => t.id));
  const fetched = await Promise.all(hashes.map((hash) => receiptOf(ctx, hash as Hex)));
  const receipts = new Map(hashes.map((hash, i) => [hash, fetched[i]!]));

  const seen = new Map<bigint, Observation>();
  for (const intent of intents) {
    if (intent.state === 'included' && !blockReplaced(intent)) {
      seen.set(intent.id, canonical.get(intent.blockNumber!) === intent.blockHash ? { kind: 'stillIncluded' } : { kind: 'unknown' });
      continue;
    }
    if (!asked.includes(intent)) {
      seen.set(intent.id, { kind: 'waiting' });
      continue;
    }
    const answers = intent.transactions.map((t) => receipts.get(t.id));
    const receipt = answers.find((r): r is TransactionReceipt => r !== null && r !== 'unknown' && r !== undefined);
    if (receipt) {
      seen.set(intent.id, {
        kind: 'included',
        inclusion: {
          transactionId: receipt.transactionHash.toLowerCase(),
          blockNumber: receipt.blockNumber,
          blockHash: receipt.blockHash.toLowerCase(),
          succeeded: receipt.status === 'success',
          receipt: toJson(receipt),
          events: decodeEvents(ctx, intent, receipt),
        },
      });
    } else if (answers.includes('unknown')) {
      // A receipt we could not read might be there: decide nothing until every answer is known.
      seen.set(intent.id, { kind: 'unknown' });
    } else {
      seen.set(intent.id, intent.state === 'included' ? { kind: 'gone' } : { kind: 'sequenceTaken' });
    }
  }
  return seen;
}

/**
 * Why a mined transaction reverted: the same call replayed on the state at the end
 * of its block (its own revert changed nothing, and a transaction earlier in the
 * block, such as a competing one, is the usual cause), else on the state before.
 */
export async function explainFailure(ctx: EvmRelayerContext, intent: InFlightIntent, blockNumber: bigint): Promise<IntentError> {
  for (const at of [blockNumber, blockNumber - 1n]) {
    try {
      await ctx.conn.publicClient.call({ account: (intent.sender ?? ctx.signer) as Hex, to: intent.target as Hex, data: intent.payload as Hex, value: BigInt(intent.value), blockNumber: at });
    } catch (error) {
      const revert = decodeRevert(error, abiOf(ctx, intent.kind));
      if (revert) return revert;
    }
  }
  return { name: 'Reverted', message: `reverted in block ${blockNumber}; replaying the call does not revert, so the reason is unknown` };
}

/** The hash of the canonical block at a height, or undefined when the node could not say (a failed read, or it is behind). */
async function canonicalHash(ctx: EvmRelayerContext, blockNumber: bigint): Promise<string | undefined> {
  try {
    return (await ctx.conn.batchClient.getBlock({ blockNumber })).hash?.toLowerCase() ?? undefined;
  } catch {
    return undefined;
  }
}

/** A transaction's receipt; null when the node says it has none; 'unknown' when the read failed. */
async function receiptOf(ctx: EvmRelayerContext, hash: Hex): Promise<TransactionReceipt | null | 'unknown'> {
  try {
    return await ctx.conn.batchClient.getTransactionReceipt({ hash });
  } catch (error) {
    return (error as Error)?.name === 'TransactionReceiptNotFoundError' ? null : 'unknown';
  }
}

/** The receipt's logs from the called contract, decoded exactly as the indexer decodes them. */
function decodeEvents(ctx: EvmRelayerContext, intent: InFlightIntent, receipt: TransactionReceipt): DecodedEvent[] {
  const decode = createDecoder(new Map([[intent.target.toLowerCase(), { source: intent.kind, abi: abiOf(ctx, intent.kind) }]]));
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    const event = decode({ ...log, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, transactionHash: receipt.transactionHash }, ctx.chain, 0n);
    if (event) events.push({ emitter: event.emitter, eventIndex: event.eventIndex, name: event.name, args: event.args });
  }
  return events;
}
