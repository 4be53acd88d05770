import type { ChainIndexer } from './context.js';
import { commitBlocks } from './commit.js';

export interface BackfillProgress {
  block: bigint;
  /** The last block's timestamp (Unix seconds). */
  timestamp: bigint;
  events: number;
}

/**
 * Historical sync of final blocks [from, to]: the family fetches batches ahead
 * (as many at once as it sees fit) and hands them over in chain order; each is
 * committed in one transaction with its events, children, projection changes and
 * the checkpoint. Final blocks need no journal.
 */
export async function backfill(ctx: ChainIndexer, from: bigint, to: bigint, onCommit: (progress: BackfillProgress) => void, shouldStop: () => boolean): Promise<void> {
  let checkpoint = from - 1n;
  for await (const batch of ctx.reader.ranges(from, to, shouldStop)) {
    if (shouldStop()) return;
    await commitBlocks(ctx, { ...batch, checkpoint, finalized: batch.to.number, journal: false });
    checkpoint = batch.to.number;
    onCommit({ block: checkpoint, timestamp: batch.to.timestamp, events: batch.events.length });
  }
}
