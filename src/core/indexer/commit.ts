import type { ChainIndexer } from './context.js';
import { applyProjections, startJournal, stopJournal } from './projections.js';
import { announceProjectionChanges, insertBlock, insertChildren, insertEvents, moveCheckpoint, pruneFinalized } from './store.js';
import type { FetchedBatch } from '../chain.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * The one transaction that indexes blocks: their raw events, the children they
 * created, the projections' changes, the new checkpoint header, and the pruning
 * that finality allows. A crash before it commits leaves nothing; after, everything.
 */
export async function commitBlocks(
  ctx: ChainIndexer,
  batch: FetchedBatch & {
    /** The checkpoint being moved from (the fence against a second writer). */
    checkpoint: bigint;
    /** Blocks at or below this are final: their headers and journal entries can go. */
    finalized: bigint;
    /** Journal the changes against the batch's block (unfinalized blocks only, one at a time). */
    journal: boolean;
  },
): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    await insertEvents(client, batch.events);
    if (batch.journal) await startJournal(client, ctx.chain, batch.to.number);
    await insertChildren(client, ctx.chain, batch.children);
    const changed = await applyProjections(client, ctx.projections, batch.events);
    if (batch.journal) await stopJournal(client);
    await announceProjectionChanges(client, ctx.chain, changed);
    await insertBlock(client, ctx.chain, batch.to);
    await moveCheckpoint(client, ctx.chain, batch.checkpoint, batch.to);
    await pruneFinalized(client, ctx.chain, batch.finalized, batch.to.number);
  });
  ctx.metrics.events(batch.events.length);
}
