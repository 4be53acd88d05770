import type pg from 'pg';
import type { ChainKey } from '../chain.js';
import { eventKey, type ChainEvent, type Projection } from './types.js';
import { projectionStore, quoteIdent } from './copy.js';
import { ProjectionFailedError } from './errors.js';

/**
 * Applies a batch to every projection, in registration order, each getting the
 * events it subscribes to. Returns the names of the projections that got events.
 * Inside `startJournal` … `stopJournal` (an unfinalized block) the tables'
 * triggers journal each change so a reorg can undo it.
 */
export async function applyProjections(client: pg.PoolClient, projections: Projection[], events: ChainEvent[], options: { replaying?: boolean } = {}): Promise<string[]> {
  if (events.length === 0) return [];
  const store = projectionStore(client, options.replaying ?? false);
  const changed: string[] = [];
  for (const projection of projections) {
    const wanted = new Set(projection.events);
    const mine = events.filter((e) => wanted.has(eventKey(e)));
    if (mine.length === 0) continue;
    try {
      await projection.apply(mine, store);
    } catch (error) {
      throw new ProjectionFailedError(projection.name, mine[0]!.blockNumber, mine.at(-1)!.blockNumber, error);
    }
    changed.push(projection.name);
  }
  return changed;
}

/** From here to `stopJournal`, the transaction's changes to journaled tables are recorded against this block. */
export async function startJournal(client: pg.PoolClient, chain: ChainKey, blockNumber: bigint): Promise<void> {
  await client.query("select set_config('ledgersync.chain', $1, true), set_config('ledgersync.block_number', $2, true)", [chain, blockNumber.toString()]);
}

/**
 * For an app writing projection tables outside the indexer's batch (a job
 * retrying a handler for an indexed block): records the transaction's changes in
 * the journal against that block while a reorg can still take it away (it is an
 * unfinalized block of the indexer's branch, this very hash), so that a reorg
 * undoes them with the rest of the block. A final block needs no journal.
 * Returns whether the changes are journaled.
 */
export async function journalAgainstBlock(client: pg.PoolClient, chain: ChainKey, block: { number: bigint; hash: string }): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from indexer_blocks where chain = $1 and number = $2 and hash = $3', [chain, block.number, block.hash]);
  if (!rowCount) return false;
  await startJournal(client, chain, block.number);
  return true;
}

export async function stopJournal(client: pg.PoolClient): Promise<void> {
  await client.query("select set_config('ledgersync.block_number', '', true)");
}

/**
 * Puts the journal trigger on every projection table. It fires only while
 * `ledgersync.block_number` is set, i.e. for unfinalized blocks.
 */
export async function installJournalTriggers(db: pg.Pool, projections: Projection[]): Promise<void> {
  for (const table of projections.flatMap((p) => p.tables)) {
    await db.query(
      `create or replace trigger ledgersync_journal
         after insert or update or delete on ${quoteIdent(table)}
         for each row when (coalesce(current_setting('ledgersync.block_number', true), '') <> '')
         execute function ledgersync_journal()`,
    );
  }
}
