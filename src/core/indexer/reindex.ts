import type pg from 'pg';
import type { ChainEvent, ChainKey, JsonValue } from '../chain.js';
import type { Projection } from './types.js';
import { applyProjections, startJournal, stopJournal } from './projections.js';
import { announceProjectionChanges } from './store.js';
import { quoteIdent } from './copy.js';
import { inTransaction } from '../../db/transaction.js';

export interface ReplayProgress {
  events: number;
  total: number;
}

/**
 * Rebuilds one projection from the raw event table, with no RPC call: empties its
 * tables and folds every stored event of `chain` again. It holds the checkpoint
 * row for the whole time, so a running indexer waits rather than interleaving,
 * and the projection's tables exclusively: reads of them wait until it commits
 * (which is what makes a bulk rebuild of their indexes possible).
 * Events above finality are replayed block by block with the journal on, so a
 * later reorg can still undo them.
 */
export async function reindexProjection(
  pool: pg.Pool,
  chain: ChainKey,
  projection: Projection,
  options: { batchSize?: number; onProgress?: (p: ReplayProgress) => void } = {},
): Promise<ReplayProgress> {
  const batchSize = options.batchSize ?? 10_000;
  return inTransaction(pool, async (client) => {
    const { rows: checkpoint } = await client.query<{ block_number: bigint }>(
      'select block_number from indexer_checkpoints where chain = $1 for update',
      [chain],
    );
    const upTo = checkpoint[0]?.block_number ?? -1n;
    // Headers are kept only for the unfinalized window; below it, nothing needs journaling.
    const { rows: window } = await client.query<{ floor: bigint | null }>('select min(number) as floor from indexer_blocks where chain = $1', [chain]);
    const journalFrom = window[0]?.floor ?? upTo + 1n;

    const rebuiltIndexes: string[] = [];
    for (const table of projection.tables) {
      await emptyTable(client, table, chain);
      rebuiltIndexes.push(...(await dropSecondaryIndexes(client, table)));
    }
    await client.query('delete from indexer_journal where chain = $1 and table_name = any($2)', [chain, projection.tables]);

    const { rows: count } = await client.query<{ n: string }>(
      `select count(*)::text as n from indexer_events where chain = $1 and block_number <= $2 and source || '.' || name = any($3)`,
      [chain, upTo, projection.events],
    );
    const progress: ReplayProgress = { events: 0, total: Number(count[0]?.n ?? 0) };

    // Read the next page on a second connection while this one applies the current page.
    // Stored events up to the checkpoint cannot change meanwhile: we hold the checkpoint row.
    const reader = await openReplayCursor(pool, chain, upTo, projection.events);
    try {
      let next = reader.read(batchSize);
      for (;;) {
        const events = await next;
        if (events.length === 0) break;
        next = reader.read(batchSize);
        next.catch(() => {}); // surfaces at the next await
        const finalized = events.filter((e) => e.blockNumber < journalFrom);
        await applyProjections(client, [projection], finalized, { replaying: true });
        for (const [blockNumber, blockEvents] of groupByBlock(events.filter((e) => e.blockNumber >= journalFrom))) {
          await startJournal(client, chain, blockNumber);
          await applyProjections(client, [projection], blockEvents, { replaying: true });
          await stopJournal(client);
        }
        progress.events += events.length;
        options.onProgress?.(progress);
      }
    } finally {
      await reader.close();
    }
    // Building an index once over all rows is far cheaper than maintaining it row by row.
    for (const definition of rebuiltIndexes) await client.query(definition);
    await announceProjectionChanges(client, chain, [projection.name]);
    return progress;
  });
}

/**
 * Stored events in chain order through one server-side cursor, read page by page.
 * One cursor rather than keyset pages: a cursor is planned for a fast start (an
 * index scan), where a page query on a table that autovacuum has not analysed yet
 * (just after a backfill) can be planned as a sort of every remaining row, per page.
 */
async function openReplayCursor(pool: pg.Pool, chain: ChainKey, upTo: bigint, eventKeys: string[]) {
  const reader = await pool.connect();
  try {
    await reader.query('begin isolation level repeatable read read only');
    await reader.query(
      `declare replay no scroll cursor for
       select block_number, block_hash, block_timestamp, transaction_id, transaction_index, event_index, source, emitter, name, args
       from indexer_events
       where chain = $1 and block_number <= $2 and source || '.' || name = any($3)
       order by block_number, event_index`,
      [chain, upTo, eventKeys],
    );
  } catch (error) {
    reader.release(error as Error);
    throw error;
  }
  return {
    read: async (limit: number): Promise<ChainEvent[]> => {
      const { rows } = await reader.query<ReplayRow>({ text: `fetch ${limit} from replay`, rowMode: 'array' });
      return rows.map((row) => fromRow(chain, row));
    },
    close: async (): Promise<void> => {
      await reader.query('rollback').catch(() => {});
      reader.release();
    },
  };
}

function groupByBlock(events: ChainEvent[]): Map<bigint, ChainEvent[]> {
  const groups = new Map<bigint, ChainEvent[]>();
  for (const e of events) {
    const group = groups.get(e.blockNumber);
    if (group) group.push(e);
    else groups.set(e.blockNumber, [e]);
  }
  return groups;
}

/** A stored event as the replay cursor returns it (array rows: no object per row to build and collect). */
type ReplayRow = [
  blockNumber: bigint,
  blockHash: string,
  blockTimestamp: bigint,
  transactionId: string,
  transactionIndex: number,
  eventIndex: number,
  source: string,
  emitter: string,
  name: string,
  args: Record<string, JsonValue>,
];

/**
 * Empties a projection table for one chain: TRUNCATE when it holds no other
 * chain's rows (much faster, and the transaction still rolls it back on error),
 * else DELETE.
 */
async function emptyTable(client: pg.PoolClient, table: string, chain: ChainKey): Promise<void> {
  const { rows } = await client.query(`select 1 from ${quoteIdent(table)} where chain <> $1 limit 1`, [chain]);
  if (rows.length === 0) await client.query(`truncate ${quoteIdent(table)}`);
  else await client.query(`delete from ${quoteIdent(table)} where chain = $1`, [chain]);
}

/** Drops the table's indexes that back no constraint, returning the statements that recreate them. */
async function dropSecondaryIndexes(client: pg.PoolClient, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string; definition: string }>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
     from pg_index i
     where i.indrelid = $1::regclass and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
    [table],
  );
  for (const index of rows) await client.query(`drop index ${index.name}`);
  return rows.map((index) => index.definition);
}

function fromRow(chain: ChainKey, row: ReplayRow): ChainEvent {
  const [blockNumber, blockHash, blockTimestamp, transactionId, transactionIndex, eventIndex, source, emitter, name, args] = row;
  return { chain, blockNumber, blockHash, blockTimestamp, transactionId, transactionIndex, eventIndex, source, emitter, name, args };
}
