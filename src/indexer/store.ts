import type pg from 'pg';
import type { Hex } from 'viem';
import type { IndexedEvent } from './types.js';

/** Where indexing of a chain stands: everything up to and including this block is stored. */
export interface Checkpoint {
  blockNumber: bigint;
  blockHash: Hex;
  blockTimestamp: bigint | null;
  haltedReason: string | null;
}

export interface BlockHeader {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  timestamp: bigint;
}

export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
  constructor(chainId: number) {
    super(`the checkpoint of chain ${chainId} moved under this indexer: another indexer is writing the same chain`);
  }
}

export async function readCheckpoint(db: pg.Pool | pg.PoolClient, chainId: number): Promise<Checkpoint | undefined> {
  const { rows } = await db.query<{ block_number: bigint; block_hash: Hex; block_timestamp: bigint | null; halted_reason: string | null }>(
    'select block_number, block_hash, block_timestamp, halted_reason from indexer_checkpoints where chain_id = $1',
    [chainId],
  );
  const row = rows[0];
  return row && { blockNumber: row.block_number, blockHash: row.block_hash, blockTimestamp: row.block_timestamp, haltedReason: row.halted_reason };
}

/** Creates the checkpoint just below the first block to index (its hash is that block's parent hash). */
export async function initCheckpoint(db: pg.Pool, chainId: number, start: BlockHeader): Promise<void> {
  await db.query(
    `insert into indexer_checkpoints (chain_id, block_number, block_hash) values ($1, $2, $3)
     on conflict (chain_id) do nothing`,
    [chainId, start.number - 1n, start.parentHash],
  );
}

/**
 * Moves the checkpoint from `from` to `to`, failing if it is no longer at `from`:
 * a fence against a second indexer that believes it holds the chain.
 */
export async function moveCheckpoint(client: pg.PoolClient, chainId: number, from: bigint, to: BlockHeader): Promise<void> {
  const { rowCount } = await client.query(
    `update indexer_checkpoints set block_number = $3, block_hash = $4, block_timestamp = $5, updated_at = now()
     where chain_id = $1 and block_number = $2`,
    [chainId, from, to.number, to.hash, to.timestamp],
  );
  if (rowCount !== 1) throw new CheckpointMovedError(chainId);
}

export async function recordHead(db: pg.Pool, chainId: number, head: bigint): Promise<void> {
  await db.query('update indexer_checkpoints set head_number = $2, head_seen_at = now() where chain_id = $1', [chainId, head]);
}

export async function haltChain(db: pg.Pool, chainId: number, reason: string): Promise<void> {
  await db.query('update indexer_checkpoints set halted_reason = $2, updated_at = now() where chain_id = $1', [chainId, reason]);
}

/** All events in one statement (arrays unnested server-side): one round trip per batch. */
export async function insertEvents(client: pg.PoolClient, events: IndexedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], [], [], [], []];
  for (const e of events) {
    columns[0]!.push(e.chainId);
    columns[1]!.push(e.blockNumber.toString());
    columns[2]!.push(e.blockHash);
    columns[3]!.push(e.blockTimestamp.toString());
    columns[4]!.push(e.transactionHash);
    columns[5]!.push(e.transactionIndex);
    columns[6]!.push(e.logIndex);
    columns[7]!.push(e.address);
    columns[8]!.push(e.eventName);
    columns[9]!.push(JSON.stringify(e.args));
    // text[] inside unnest would flatten; pass topics as one JSON array per row instead.
    columns[10]!.push(JSON.stringify(e.topics));
    columns[11]!.push(e.data);
  }
  await client.query(
    `insert into indexer_events
       (chain_id, block_number, block_hash, block_timestamp, transaction_hash, transaction_index, log_index, address, event_name, args, topics, data)
     select c, n, bh, ts, th, ti, li, a, en, args::jsonb, array(select jsonb_array_elements_text(t::jsonb)), d
     from unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
       as u(c, n, bh, ts, th, ti, li, a, en, args, t, d)`,
    columns,
  );
}

export async function insertBlock(client: pg.PoolClient, chainId: number, block: BlockHeader): Promise<void> {
  await client.query(
    `insert into indexer_blocks (chain_id, number, hash, parent_hash, timestamp) values ($1, $2, $3, $4, $5)
     on conflict (chain_id, number) do update set hash = excluded.hash, parent_hash = excluded.parent_hash, timestamp = excluded.timestamp`,
    [chainId, block.number, block.hash, block.parentHash, block.timestamp],
  );
}

export async function storedBlock(db: pg.Pool | pg.PoolClient, chainId: number, number: bigint): Promise<BlockHeader | undefined> {
  const { rows } = await db.query<{ number: bigint; hash: Hex; parent_hash: Hex; timestamp: bigint }>(
    'select number, hash, parent_hash, timestamp from indexer_blocks where chain_id = $1 and number = $2',
    [chainId, number],
  );
  const row = rows[0];
  return row && { number: row.number, hash: row.hash, parentHash: row.parent_hash, timestamp: row.timestamp };
}

/** Forgets headers and journal entries that finality has made unnecessary. */
export async function pruneFinalized(client: pg.PoolClient, chainId: number, finalized: bigint, keep: bigint): Promise<void> {
  // Always keep the checkpoint's own header (`keep`): the next block's parent hash is checked against it.
  await client.query('delete from indexer_blocks where chain_id = $1 and number < $2 and number <> $3', [chainId, finalized, keep]);
  await client.query('delete from indexer_journal where chain_id = $1 and block_number <= $2', [chainId, finalized]);
}

/** Undoes everything above `ancestor`: projection changes (journal), raw events and headers. */
export async function rollbackAbove(client: pg.PoolClient, chainId: number, ancestor: bigint): Promise<void> {
  await client.query("select set_config('ledgersync.block_number', '', true)");
  await client.query('select ledgersync_undo($1, $2)', [chainId, ancestor]);
  await client.query('delete from indexer_events where chain_id = $1 and block_number > $2', [chainId, ancestor]);
  await client.query('delete from indexer_blocks where chain_id = $1 and number > $2', [chainId, ancestor]);
}

/** Runs `work` in a transaction on its own connection. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
