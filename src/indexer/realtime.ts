import type { Hex } from 'viem';
import type { ChainIndexer } from './context.js';
import { bloomMayContainAny } from './bloom.js';
import { commitBlocks } from './commit.js';
import { getLogs, lower, toHeader } from './fetch.js';
import { moveCheckpoint, rollbackAbove, storedBlock, type BlockHeader, type Checkpoint } from './store.js';
import type { StoredEvent } from './types.js';
import { inTransaction } from '../db/transaction.js';

export class DeepReorgError extends Error {
  override name = 'DeepReorgError';
}

/**
 * Indexes the block after the checkpoint, unfinalized: the header's parent hash
 * must match the checkpoint's hash, else the chain reorganised and we roll back to
 * the common ancestor first. Logs are fetched by block hash, so they belong to
 * exactly the header we checked. Returns the new checkpoint.
 */
export async function indexNextBlock(ctx: ChainIndexer, checkpoint: Checkpoint, head: bigint): Promise<Checkpoint> {
  const block = await ctx.client.getBlock({ blockNumber: checkpoint.blockNumber + 1n });
  const header = toHeader(block);
  if (header.parentHash !== checkpoint.blockHash) return rollBackToAncestor(ctx, checkpoint, head);

  let events: StoredEvent[] = [];
  if (bloomMayContainAny(block.logsBloom, ctx.addresses)) {
    const logs = await getLogs(ctx.client, { address: ctx.addresses, blockHash: header.hash });
    events = logs
      // A node answering for a block hash it has since dropped may return nothing or stale data; the hash check guards it.
      .filter((log) => lower(log.blockHash) === header.hash)
      .map((log) => ctx.decode(log, ctx.chainId, header.timestamp))
      .filter((e): e is StoredEvent => e !== undefined);
  }

  await commitBlocks(ctx, { from: checkpoint.blockNumber, to: header, events, finalized: head - ctx.finalityDepth, journal: true });
  return { blockNumber: header.number, blockHash: header.hash, blockTimestamp: header.timestamp, haltedReason: null };
}

/**
 * Walks back from the checkpoint until a stored header matches the canonical
 * chain, then undoes everything above it in one transaction. If the walk leaves
 * the stored (unfinalized) window, the reorg is deeper than finality: we stop.
 */
export async function rollBackToAncestor(ctx: ChainIndexer, checkpoint: Checkpoint, head: bigint): Promise<Checkpoint> {
  let ancestor: BlockHeader | undefined;
  // Blocks above the head are gone from the canonical chain (the chain got shorter).
  for (let n = checkpoint.blockNumber < head ? checkpoint.blockNumber : head; n >= 0n; n--) {
    const stored = await storedBlock(ctx.pool, ctx.chainId, n);
    if (!stored) break;
    const canonical = await ctx.client.getBlock({ blockNumber: n });
    if (lower(canonical.hash!) === stored.hash) {
      ancestor = stored;
      break;
    }
  }
  if (!ancestor) {
    throw new DeepReorgError(
      `chain ${ctx.chainId} reorganised below block ${checkpoint.blockNumber - ctx.finalityDepth + 1n}, deeper than the finality depth of ${ctx.finalityDepth} blocks; indexing stopped to avoid corrupt data`,
    );
  }
  const depth = checkpoint.blockNumber - ancestor.number;
  await inTransaction(ctx.pool, async (client) => {
    await rollbackAbove(client, ctx.chainId, ancestor.number);
    await moveCheckpoint(client, ctx.chainId, checkpoint.blockNumber, ancestor);
  });
  ctx.metrics.reorg(depth);
  ctx.logger.warn({ chainId: ctx.chainId, depth: Number(depth), ancestor: Number(ancestor.number), ancestorHash: ancestor.hash as Hex }, 'reorg: rolled back to the common ancestor');
  return { blockNumber: ancestor.number, blockHash: ancestor.hash, blockTimestamp: ancestor.timestamp, haltedReason: null };
}
