import type pg from 'pg';
import type { Hex } from 'viem';
import type { IndexedEvent, JsonValue, Projection } from './types.js';
import { inTransaction, projectionStore, quoteIdent } from './store.js';

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
    if (mine.length > 0) await projection.apply(mine, store);
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

export interface ReplayProgress {
  events: number;
  total: number;
}

/**
 * Rebuilds one projection from the raw event table, with no RPC call: empties its
 * tables and folds every stored event of `chainId` again. It holds the checkpoint
 * row for the whole time, so a running indexer waits rather than interleaving,
 * and the projection's tables exclusively: reads of them wait until it commits
 * (which is what makes a bulk rebuild of their indexes possible).
 * Events above finality are replayed block by block with the journal on, so a
 * later reorg can still undo them.
 */
export async function reindexProjection(
  pool: pg.Pool,
  chainId: number,
  projection: Projection,
  options: { batchSize?: number; onProgress?: (p: ReplayProgress) => void } = {},
): Promise<ReplayProgress> {
  const batchSize = options.batchSize ?? 50_000;
  return inTransaction(pool, async (client) => {
    const { rows: checkpoint } = await client.query<{ block_number: bigint }>(
      'select block_number from indexer_checkpoints where chain_id = $1 for update',
      [chainId],
    );
    const upTo = checkpoint[0]?.block_number ?? -1n;
    // Headers are kept only for the unfinalized window; below it, nothing needs journaling.
    const { rows: window } = await client.query<{ floor: bigint | null }>('select min(number) as floor from indexer_blocks where chain_id = $1', [chainId]);
    const journalFrom = window[0]?.floor ?? upTo + 1n;

    const rebuiltIndexes: string[] = [];
    for (const table of projection.tables) {
      await emptyTable(client, table, chainId);
      rebuiltIndexes.push(...(await dropSecondaryIndexes(client, table)));
    }
    await client.query('delete from indexer_journal where chain_id = $1 and table_name = any($2)', [chainId, projection.tables]);

    const { rows: count } = await client.query<{ n: string }>(
      'select count(*)::text as n from indexer_events where chain_id = $1 and block_number <= $2 and event_name = any($3)',
      [chainId, upTo, projection.events],
    );
    const progress: ReplayProgress = { events: 0, total: Number(count[0]?.n ?? 0) };

    // Read the next batch on a second connection while this one applies the current batch.
    // Stored events up to the checkpoint cannot change meanwhile: we hold the checkpoint row.
    const reader = await pool.connect();
    try {
      let next = readBatch(reader, chainId, upTo, projection.events, [-1n, -1], batchSize);
      for (;;) {
        const events = await next;
        if (events.length === 0) break;
        const last = events[events.length - 1]!;
        next = readBatch(reader, chainId, upTo, projection.events, [last.blockNumber, last.logIndex], batchSize);
        next.catch(() => {}); // surfaces at the next await
        const finalized = events.filter((e) => e.blockNumber < journalFrom);
        await applyProjections(client, [projection], finalized);
        for (const [blockNumber, blockEvents] of groupByBlock(events.filter((e) => e.blockNumber >= journalFrom))) {
          await applyProjections(client, [projection], blockEvents, { chainId, blockNumber });
        }
        progress.events += events.length;
        options.onProgress?.(progress);
      }
    } finally {
      reader.release();
    }
    // Building an index once over all rows is far cheaper than maintaining it row by row.
    for (const definition of rebuiltIndexes) await client.query(definition);
    return progress;
  });
}

/** One page of stored events in chain order, after `after` (keyset pagination). */
async function readBatch(
  reader: pg.PoolClient,
  chainId: number,
  upTo: bigint,
  eventNames: string[],
  after: [bigint, number],
  limit: number,
): Promise<IndexedEvent[]> {
  const { rows } = await reader.query<StoredEventRow>(
    // Topics as one string: splitting it is much cheaper than parsing a Postgres array per row.
    `select chain_id, block_number, block_hash, block_timestamp, transaction_hash, transaction_index, log_index, address, event_name, args,
            array_to_string(topics, ',') as topics, data
     from indexer_events
     where chain_id = $1 and block_number <= $2 and event_name = any($3) and (block_number, log_index) > ($4, $5)
     order by block_number, log_index limit $6`,
    [chainId, upTo, eventNames, after[0], after[1], limit],
  );
  return rows.map(fromRow);
}

function groupByBlock(events: IndexedEvent[]): Map<bigint, IndexedEvent[]> {
  const groups = new Map<bigint, IndexedEvent[]>();
  for (const e of events) {
    const group = groups.get(e.blockNumber);
    if (group) group.push(e);
    else groups.set(e.blockNumber, [e]);
  }
  return groups;
}

interface StoredEventRow {
  chain_id: bigint;
  block_number: bigint;
  block_hash: Hex;
  block_timestamp: bigint;
  transaction_hash: Hex;
  transaction_index: number;
  log_index: number;
  address: Hex;
  event_name: string;
  args: Record<string, JsonValue>;
  topics: string;
  data: Hex;
}

/**
 * Empties a projection table for one chain: TRUNCATE when it holds no other
 * chain's rows (much faster, and the transaction still rolls it back on error),
 * else DELETE.
 */
async function emptyTable(client: pg.PoolClient, table: string, chainId: number): Promise<void> {
  const { rows } = await client.query(`select 1 from ${quoteIdent(table)} where chain_id <> $1 limit 1`, [chainId]);
  if (rows.length === 0) await client.query(`truncate ${quoteIdent(table)}`);
  else await client.query(`delete from ${quoteIdent(table)} where chain_id = $1`, [chainId]);
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

function fromRow(row: StoredEventRow): IndexedEvent {
  return {
    chainId: Number(row.chain_id),
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    blockTimestamp: row.block_timestamp,
    transactionHash: row.transaction_hash,
    transactionIndex: row.transaction_index,
    logIndex: row.log_index,
    address: row.address,
    eventName: row.event_name,
    args: row.args,
    topics: (row.topics ? row.topics.split(',') : []) as Hex[],
    data: row.data,
  };
}

