import type { ChainIndexer } from './context.js';
import { bloomMayContainAny } from './bloom.js';
import { commitBlocks } from './commit.js';
import { getLogs, lower, toHeader } from './fetch.js';
import { NodeBehindError, rollBackToAncestor } from './reorg.js';
import type { Checkpoint } from './store.js';
import type { StoredEvent } from './types.js';
import { finalizedBlock } from '../chain/finality.js';

/**
 * Indexes the block after the checkpoint, unfinalized: the header's parent hash
 * must match the checkpoint's hash, else the chain reorganised and we roll back to
 * the common ancestor first. Logs are fetched by block hash, so they belong to
 * exactly the header we checked. Returns the new checkpoint.
 */
export async function indexNextBlock(ctx: ChainIndexer, checkpoint: Checkpoint, head: bigint): Promise<Checkpoint> {
  const next = checkpoint.blockNumber + 1n;
  const block = await ctx.client.getBlock({ blockNumber: next }).catch((error: Error) => {
    throw error.name === 'BlockNotFoundError' ? new NodeBehindError(`the node has no block ${next} yet although it reported head ${head}`) : error;
  });
  const header = toHeader(block);
  if (header.parentHash !== checkpoint.blockHash) return rollBackToAncestor(ctx, checkpoint, checkpoint.blockNumber);

  let events: StoredEvent[] = [];
  if (bloomMayContainAny(block.logsBloom, ctx.addresses)) {
    const logs = await getLogs(ctx.client, { address: ctx.addresses, blockHash: header.hash });
    events = logs
      // A node answering for a block hash it has since dropped may return nothing or stale data; the hash check guards it.
      .filter((log) => lower(log.blockHash) === header.hash)
      .map((log) => ctx.decode(log, ctx.chainId, header.timestamp))
      .filter((e): e is StoredEvent => e !== undefined);
  }

  await commitBlocks(ctx, { from: checkpoint.blockNumber, to: header, events, finalized: finalizedBlock(head, ctx.finalityDepth), journal: true });
  return { blockNumber: header.number, blockHash: header.hash, blockTimestamp: header.timestamp, haltedReason: null };
}
