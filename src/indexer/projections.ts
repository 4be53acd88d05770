import type pg from 'pg';
import type { IndexedEvent, Projection } from './types.js';
import { projectionStore, quoteIdent } from './store.js';
import { ProjectionFailedError } from './errors.js';

/**
 * Applies a batch to every projection, in registration order. When `journalBlock`
 * is given (an unfinalized block), the projection tables' triggers journal each
 * change against that block so a reorg can undo it.
 */
export async function applyProjections(
  client: pg.PoolClient,
  projections: Projection[],
  events: IndexedEvent[],
  journal?: { chainId: number; blockNumber: bigint },
): Promise<void> {
  if (events.length === 0) return;
  const store = projectionStore(client);
  if (journal) {
    await client.query("select set_config('ledgersync.chain_id', $1, true), set_config('ledgersync.block_number', $2, true)", [
      String(journal.chainId),
      journal.blockNumber.toString(),
    ]);
  }
  for (const projection of projections) {
    const mine = events.filter((e) => projection.events.includes(e.eventName));
    if (mine.length === 0) continue;
    try {
      await projection.apply(mine, store);
    } catch (error) {
      throw new ProjectionFailedError(projection.name, mine[0]!.blockNumber, mine.at(-1)!.blockNumber, error);
    }
  }
  if (journal) await client.query("select set_config('ledgersync.block_number', '', true)");
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
