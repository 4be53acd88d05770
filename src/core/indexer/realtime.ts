import type { ChainIndexer } from './context.js';
import { commitBlocks } from './commit.js';
import { rollBackToAncestor } from './reorg.js';
import type { Checkpoint } from './store.js';
import { finalizedBlock } from '../finality.js';

/**
 * Indexes the block after the checkpoint, unfinalized: its parent must be the
 * checkpoint's block, else the chain reorganised and we roll back to the common
 * ancestor first. Returns the new checkpoint.
 */
export async function indexNextBlock(ctx: ChainIndexer, checkpoint: Checkpoint, head: bigint): Promise<Checkpoint> {
  const batch = await ctx.reader.next(checkpoint.blockNumber + 1n);
  if (batch.to.parentHash !== checkpoint.blockHash) return rollBackToAncestor(ctx, checkpoint, checkpoint.blockNumber);
  await commitBlocks(ctx, { ...batch, checkpoint: checkpoint.blockNumber, finalized: finalizedBlock(head, ctx.finalityDepth), journal: true });
  return { blockNumber: batch.to.number, blockHash: batch.to.hash, blockTimestamp: batch.to.timestamp, haltedReason: null };
}
