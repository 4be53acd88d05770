import type { ChainIndexer } from './context.js';
import { announceProjectionChanges, moveCheckpoint, rollbackAbove, storedBlock, type Checkpoint } from './store.js';
import type { BlockRef } from '../chain.js';
import { inTransaction } from '../../db/transaction.js';
import { NodeBehindError } from '../chain.js';

/** The chain reorganised below what we keep headers for: deeper than finality. Indexing of the chain halts. */
export class DeepReorgError extends Error {
  override name = 'DeepReorgError';
}

/**
 * A chain without reorgs (finality depth 0: Sui) serves at our checkpoint's
 * height another block than the one we indexed. Its blocks never change, so the
 * node serves another network than the one indexed (a local network started
 * again, a URL pointed elsewhere), or the chain was wrongly configured as final
 * at depth 0. Indexing of the chain halts; nothing is rolled back.
 */
export class ChainMismatchError extends Error {
  override name = 'ChainMismatchError';
}

/**
 * Checks what we hold against the chain before going on from it: on a start, before
 * a backfill (the checkpoint may be a block stored while unfinalized, and the chain
 * may have reorganised while we were down, cut off or locked out), and when the node
 * reports a head below the checkpoint. Returns the checkpoint as it was when its
 * block is still canonical, else the common ancestor after rolling back to it.
 *
 * Only a block seen at a height we hold with another hash than we stored is a
 * reorg. A head below the checkpoint whose block we hold and match means the node
 * is behind: NodeBehindError, and nothing is touched.
 */
export async function verifyCheckpoint(ctx: ChainIndexer, checkpoint: Checkpoint, head: bigint): Promise<Checkpoint> {
  // Indexing from genesis starts below block 0: there is no block there to compare, and nothing held to undo.
  if (checkpoint.blockNumber < 0n) return checkpoint;
  const height = checkpoint.blockNumber <= head ? checkpoint.blockNumber : head;
  const held = await heldHash(ctx, checkpoint, height);
  const canonical = await ctx.reader.block(height);
  if (held === undefined || canonical.hash === held) {
    if (height < checkpoint.blockNumber) throw new NodeBehindError(`the node's head ${head} is below the checkpoint ${checkpoint.blockNumber}; waiting for it to catch up`);
    return checkpoint;
  }
  if (ctx.finalityDepth === 0n) {
    throw new ChainMismatchError(
      `chain ${ctx.chain} serves ${canonical.hash} at block ${height} where ${held} was indexed. At finality depth 0 a block never changes once served: ` +
        'the node serves another network than the one indexed here (or the chain is not final at depth 0). Indexing stopped; nothing was rolled back',
    );
  }
  return rollBackToAncestor(ctx, checkpoint, height);
}

/**
 * Walks down from `from` (a height whose canonical block is known to differ from
 * ours, or the checkpoint) until a block we hold matches the canonical chain,
 * then undoes everything above it in one transaction. If every header we hold
 * differs, the reorg is deeper than finality: DeepReorgError.
 */
export async function rollBackToAncestor(ctx: ChainIndexer, checkpoint: Checkpoint, from: bigint): Promise<Checkpoint> {
  let ancestor: BlockRef | undefined;
  let lowestDiffering = from;
  for (let n = from; n >= 0n; n--) {
    const held = n === checkpoint.blockNumber ? checkpoint.blockHash : (await storedBlock(ctx.pool, ctx.chain, n))?.hash;
    if (held === undefined) break;
    const canonical = await ctx.reader.block(n);
    if (canonical.hash === held) {
      ancestor = n === checkpoint.blockNumber ? { number: n, hash: held, parentHash: canonical.parentHash, timestamp: canonical.timestamp } : await storedBlock(ctx.pool, ctx.chain, n);
      break;
    }
    lowestDiffering = n;
  }
  if (!ancestor) {
    throw new DeepReorgError(
      `chain ${ctx.chain} reorganised at or below block ${lowestDiffering} (every header kept differs from the chain's), deeper than the finality depth of ${ctx.finalityDepth} blocks; indexing stopped to avoid corrupt data`,
    );
  }
  if (ancestor.number === checkpoint.blockNumber) return checkpoint;
  const depth = checkpoint.blockNumber - ancestor.number;
  await inTransaction(ctx.pool, async (client) => {
    await rollbackAbove(client, ctx.chain, ancestor.number);
    await moveCheckpoint(client, ctx.chain, checkpoint.blockNumber, ancestor);
    // The journal may have undone any projection of the chain: every cache of them is stale.
    await announceProjectionChanges(client, ctx.chain, ctx.projections.map((p) => p.name));
  });
  ctx.reader.forgetAbove(ancestor.number);
  ctx.metrics.reorg(depth);
  ctx.logger.warn({ chain: ctx.chain, depth: Number(depth), ancestor: Number(ancestor.number), ancestorHash: ancestor.hash }, 'reorg: rolled back to the common ancestor');
  return { blockNumber: ancestor.number, blockHash: ancestor.hash, blockTimestamp: ancestor.timestamp, haltedReason: null };
}

/** The hash we hold at a height: the checkpoint's, or a stored header's (undefined when none is kept there). */
async function heldHash(ctx: ChainIndexer, checkpoint: Checkpoint, height: bigint): Promise<string | undefined> {
  if (height === checkpoint.blockNumber) return checkpoint.blockHash;
  return (await storedBlock(ctx.pool, ctx.chain, height))?.hash;
}

