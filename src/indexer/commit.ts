import type { ChainIndexer } from './context.js';
import { applyProjections } from './projections.js';
import { announceProjectionChange, insertBlock, insertEvents, moveCheckpoint, pruneFinalized, type BlockHeader } from './store.js';
import type { StoredEvent } from './types.js';
import { inTransaction } from '../db/transaction.js';

/**
 * The one transaction that indexes blocks: their raw events, the projections'
 * changes, the new checkpoint header, and the pruning that finality allows. A
 * crash before it commits leaves nothing; after, everything.
 */
export async function commitBlocks(
  ctx: ChainIndexer,
  batch: {
    /** The checkpoint being moved from (the fence against a second writer). */
    from: bigint;
    /** The header of the last block in the batch: the new checkpoint. */
    to: BlockHeader;
    events: StoredEvent[];
    /** Blocks at or below this are final: their headers and journal entries can go. */
    finalized: bigint;
    /** Journal the projections' changes against `to` (unfinalized blocks only). */
    journal: boolean;
  },
): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    await insertEvents(client, batch.events);
    await applyProjections(client, ctx.projections, batch.events, batch.journal ? { chainId: ctx.chainId, blockNumber: batch.to.number } : undefined);
    if (batch.events.length > 0) await announceProjectionChange(client, ctx.chainId);
    await insertBlock(client, ctx.chainId, batch.to);
    await moveCheckpoint(client, ctx.chainId, batch.from, batch.to);
    await pruneFinalized(client, ctx.chainId, batch.finalized, batch.to.number);
  });
  ctx.metrics.events(batch.events.length);
}
