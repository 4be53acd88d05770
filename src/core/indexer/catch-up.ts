import type { ChainIndexer } from './context.js';
import type { ConnectedChain, Source } from '../chain.js';
import { NodeBehindError } from '../chain.js';
import { startJournal, stopJournal } from './projections.js';
import { reindexProjection } from './reindex.js';
import { advanceSources, setSourceState, type SourceProgress } from './sources.js';
import { insertChildren, insertEvents, storedBlock, storedChildren, type Checkpoint } from './store.js';
import { finalizedBlock } from '../finality.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * Brings sources added after the chain was indexed up to its checkpoint, without
 * touching the others: their history is fetched (final blocks in batches, each
 * commit moving their own progress; then each unfinalized block, checked against
 * the header we hold and journaled), and the projections that read them are
 * replayed from stored events. A crash anywhere resumes from their own progress.
 */
export async function catchUpSources(
  ctx: ChainIndexer,
  chain: ConnectedChain,
  sources: Source[],
  progress: SourceProgress[],
  checkpoint: Checkpoint,
  head: bigint,
  shouldStop: () => boolean,
): Promise<void> {
  const names = progress.map((p) => p.name);
  const catching = progress.filter((p) => p.state === 'catching-up');
  if (catching.length > 0) {
    const mine = sources.filter((s) => names.includes(s.name));
    const children = (await storedChildren(ctx.pool, ctx.chain)).filter((c) => names.includes(c.source));
    const { reader } = chain.openReader(mine, children);
    const from = catching.reduce((low, p) => (p.syncedTo! < low ? p.syncedTo! : low), checkpoint.blockNumber) + 1n;
    const lastFinal = finalizedBlock(head, ctx.finalityDepth) < checkpoint.blockNumber ? finalizedBlock(head, ctx.finalityDepth) : checkpoint.blockNumber;
    ctx.logger.info({ sources: names, from: from.toString(), to: checkpoint.blockNumber.toString() }, 'new sources: fetching their history up to the checkpoint');

    if (from <= lastFinal) {
      for await (const batch of reader.ranges(from, lastFinal, shouldStop)) {
        if (shouldStop()) return;
        await inTransaction(ctx.pool, async (client) => {
          await insertEvents(client, batch.events);
          await insertChildren(client, ctx.chain, batch.children);
          await advanceSources(client, ctx.chain, names, batch.to.number);
        });
      }
    }
    // Above finality, block by block against the headers we hold: a block that differs is a reorg the
    // main loop has not seen yet; it goes first, and this resumes after.
    for (let height = (from > lastFinal ? from : lastFinal + 1n); height <= checkpoint.blockNumber; height++) {
      if (shouldStop()) return;
      const batch = await reader.next(height);
      const held = height === checkpoint.blockNumber ? checkpoint.blockHash : (await storedBlock(ctx.pool, ctx.chain, height))?.hash;
      if (batch.to.hash !== held) throw new NodeBehindError(`block ${height} is not the one indexed; new sources wait for the indexer to settle it`);
      await inTransaction(ctx.pool, async (client) => {
        await insertEvents(client, batch.events);
        await startJournal(client, ctx.chain, height);
        await insertChildren(client, ctx.chain, batch.children);
        await stopJournal(client);
        await advanceSources(client, ctx.chain, names, height);
      });
    }
    await setSourceState(ctx.pool, ctx.chain, names, 'fetched');
  }

  // Their history is stored: the projections that read them are rebuilt from it, in chain order with the rest.
  const replayed = ctx.projections.filter((p) => readsAny(p.events, names));
  for (const projection of replayed) {
    const result = await reindexProjection(ctx.pool, ctx.chain, projection);
    ctx.logger.info({ projection: projection.name, events: result.events }, 'projection replayed with the new sources');
  }
  await setSourceState(ctx.pool, ctx.chain, names, 'live');
  ctx.logger.info({ sources: names }, 'new sources caught up; indexed with the others from now on');
}

/** Whether a projection folds any event of these sources (it must be replayed when they join). */
function readsAny(events: string[], sources: string[]): boolean {
  return events.some((key) => sources.includes(key.slice(0, key.indexOf('.'))));
}
