import type pg from 'pg';
import type { Hex } from 'viem';
import type { IndexedEvent, JsonValue, Projection } from './types.js';

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
  if (journal) {
    await client.query("select set_config('ledgersync.chain_id', $1, true), set_config('ledgersync.block_number', $2, true)", [
      String(journal.chainId),
      journal.blockNumber.toString(),
    ]);
  }
  for (const projection of projections) {
    const mine = events.filter((e) => projection.events.includes(e.eventName));
    if (mine.length > 0) await projection.apply(mine, client);
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
 * row for the whole time, so a running indexer waits rather than interleaving.
 * Events above finality are replayed block by block with the journal on, so a
 * later reorg can still undo them.
 */
export async function reindexProjection(
  pool: pg.Pool,
  chainId: number,
  projection: Projection,
  options: { batchSize?: number; onProgress?: (p: ReplayProgress) => void } = {},
): Promise<ReplayProgress> {
  const batchSize = options.batchSize ?? 10_000;
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows: checkpoint } = await client.query<{ block_number: bigint }>(
      'select block_number from indexer_checkpoints where chain_id = $1 for update',
      [chainId],
    );
    const upTo = checkpoint[0]?.block_number ?? -1n;
    // Headers are kept only for the unfinalized window; below it, nothing needs journaling.
    const { rows: window } = await client.query<{ floor: bigint | null }>('select min(number) as floor from indexer_blocks where chain_id = $1', [chainId]);
    const journalFrom = window[0]?.floor ?? upTo + 1n;

    for (const table of projection.tables) await client.query(`delete from ${quoteIdent(table)} where chain_id = $1`, [chainId]);
    await client.query('delete from indexer_journal where chain_id = $1 and table_name = any($2)', [chainId, projection.tables]);

    const { rows: count } = await client.query<{ n: string }>(
      'select count(*)::text as n from indexer_events where chain_id = $1 and block_number <= $2 and event_name = any($3)',
      [chainId, upTo, projection.events],
    );
    const progress: ReplayProgress = { events: 0, total: Number(count[0]?.n ?? 0) };

    // Keyset pagination in chain order.
    let after: [bigint, number] = [-1n, -1];
    for (;;) {
      const { rows } = await client.query<StoredEventRow>(
        `select chain_id, block_number, block_hash, block_timestamp, transaction_hash, transaction_index, log_index, address, event_name, args, topics, data
         from indexer_events
         where chain_id = $1 and block_number <= $2 and event_name = any($3) and (block_number, log_index) > ($4, $5)
         order by block_number, log_index limit $6`,
        [chainId, upTo, projection.events, after[0], after[1], batchSize],
      );
      if (rows.length === 0) break;
      const events = rows.map(fromRow);
      const finalized = events.filter((e) => e.blockNumber < journalFrom);
      await applyProjections(client, [projection], finalized);
      for (const [blockNumber, blockEvents] of groupByBlock(events.filter((e) => e.blockNumber >= journalFrom))) {
        await applyProjections(client, [projection], blockEvents, { chainId, blockNumber });
      }
      const last = events[events.length - 1]!;
      after = [last.blockNumber, last.logIndex];
      progress.events += events.length;
      options.onProgress?.(progress);
    }
    await client.query('commit');
    return progress;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export function groupByBlock(events: IndexedEvent[]): Map<bigint, IndexedEvent[]> {
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
  topics: Hex[];
  data: Hex;
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
    topics: row.topics,
    data: row.data,
  };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
