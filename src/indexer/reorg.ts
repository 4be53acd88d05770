import type { Hex } from 'viem';
import type { ChainIndexer } from './context.js';
import { toHeader } from './fetch.js';
import { moveCheckpoint, rollbackAbove, storedBlock, type BlockHeader, type Checkpoint } from './store.js';
import { inTransaction } from '../db/transaction.js';

/** The chain reorganised below what we keep headers for: deeper than finality. Indexing of the chain halts. */
export class DeepReorgError extends Error {
  override name = 'DeepReorgError';
}

/**
 * The node has not reached a height we asked about (a provider behind a load
 * balancer answers from nodes a few blocks apart). Not a reorg: wait and ask again.
 */
export class NodeBehindError extends Error {
  override name = 'NodeBehindError';
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
  const height = checkpoint.blockNumber <= head ? checkpoint.blockNumber : head;
  const held = await heldHash(ctx, checkpoint, height);
  const canonical = await canonicalBlock(ctx, height);
  if (held === undefined || canonical.hash === held) {
    if (height < checkpoint.blockNumber) throw new NodeBehindError(`the node's head ${head} is below the checkpoint ${checkpoint.blockNumber}; waiting for it to catch up`);
    return checkpoint;
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
  let ancestor: BlockHeader | undefined;
  let lowestDiffering = from;
  for (let n = from; n >= 0n; n--) {
    const held = n === checkpoint.blockNumber ? checkpoint.blockHash : (await storedBlock(ctx.pool, ctx.chainId, n))?.hash;
    if (held === undefined) break;
    const canonical = await canonicalBlock(ctx, n);
    if (canonical.hash === held) {
      ancestor = n === checkpoint.blockNumber ? { number: n, hash: held, parentHash: canonical.parentHash, timestamp: canonical.timestamp } : await storedBlock(ctx.pool, ctx.chainId, n);
      break;
    }
    lowestDiffering = n;
  }
  if (!ancestor) {
    throw new DeepReorgError(
      `chain ${ctx.chainId} reorganised at or below block ${lowestDiffering} (every header kept differs from the chain's), deeper than the finality depth of ${ctx.finalityDepth} blocks; indexing stopped to avoid corrupt data`,
    );
  }
  if (ancestor.number === checkpoint.blockNumber) return checkpoint;
  const depth = checkpoint.blockNumber - ancestor.number;
  await inTransaction(ctx.pool, async (client) => {
    await rollbackAbove(client, ctx.chainId, ancestor.number);
    await moveCheckpoint(client, ctx.chainId, checkpoint.blockNumber, ancestor);
  });
  ctx.metrics.reorg(depth);
  ctx.logger.warn({ chainId: ctx.chainId, depth: Number(depth), ancestor: Number(ancestor.number), ancestorHash: ancestor.hash as Hex }, 'reorg: rolled back to the common ancestor');
  return { blockNumber: ancestor.number, blockHash: ancestor.hash, blockTimestamp: ancestor.timestamp, haltedReason: null };
}

/** The canonical block at a height, as the node sees it; NodeBehindError when it has none there yet. */
export async function canonicalBlock(ctx: ChainIndexer, blockNumber: bigint): Promise<BlockHeader> {
  try {
    return toHeader(await ctx.client.getBlock({ blockNumber }));
  } catch (error) {
    if ((error as Error).name === 'BlockNotFoundError') throw new NodeBehindError(`the node has no block ${blockNumber} yet; waiting for it to catch up`);
    throw error;
  }
}

/** The hash we hold at a height: the checkpoint's, or a stored header's (undefined when none is kept there). */
async function heldHash(ctx: ChainIndexer, checkpoint: Checkpoint, height: bigint): Promise<Hex | undefined> {
  if (height === checkpoint.blockNumber) return checkpoint.blockHash;
  return (await storedBlock(ctx.pool, ctx.chainId, height))?.hash;
}

