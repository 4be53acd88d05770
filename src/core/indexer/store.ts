import type pg from 'pg';
import type { BlockRef, ChainKey, Child, StoredEvent } from '../chain.js';
import { copyInto, type CopyValue } from './copy.js';

/** Where indexing of a chain stands: every event of its live sources up to and including this block is stored. */
export interface Checkpoint {
  blockNumber: bigint;
  blockHash: string;
  blockTimestamp: bigint | null;
  haltedReason: string | null;
}

export class CheckpointMovedError extends Error {
  override name = 'CheckpointMovedError';
  constructor(chain: ChainKey) {
    super(`the checkpoint of chain ${chain} moved under this indexer: another indexer is writing the same chain`);
  }
}

export async function readCheckpoint(db: pg.Pool | pg.PoolClient, chain: ChainKey): Promise<Checkpoint | undefined> {
  const { rows } = await db.query<{ block_number: bigint; block_hash: string; block_timestamp: bigint | null; halted_reason: string | null }>(
    'select block_number, block_hash, block_timestamp, halted_reason from indexer_checkpoints where chain = $1',
    [chain],
  );
  const row = rows[0];
  return row && { blockNumber: row.block_number, blockHash: row.block_hash, blockTimestamp: row.block_timestamp, haltedReason: row.halted_reason };
}

/**
 * Creates the checkpoint at `below`, the block just below the first one to index,
 * and keeps its header: when indexing starts near the head, a reorg of the first
 * block is undone by rolling back to it like any other.
 */
export async function initCheckpoint(client: pg.PoolClient, chain: ChainKey, below: BlockRef): Promise<void> {
  const { rowCount } = await client.query(
    `insert into indexer_checkpoints (chain, block_number, block_hash, block_timestamp) values ($1, $2, $3, $4)
     on conflict (chain) do nothing`,
    [chain, below.number, below.hash, below.timestamp],
  );
  if (rowCount === 1 && below.number >= 0n) await insertBlock(client, chain, below);
}

/**
 * Moves the checkpoint from `from` to `to`, failing if it is no longer at `from`:
 * a fence against a second indexer that believes it holds the chain.
 */
export async function moveCheckpoint(client: pg.PoolClient, chain: ChainKey, from: bigint, to: BlockRef): Promise<void> {
  const { rowCount } = await client.query(
    `update indexer_checkpoints set block_number = $3, block_hash = $4, block_timestamp = $5, updated_at = now()
     where chain = $1 and block_number = $2`,
    [chain, from, to.number, to.hash, to.timestamp],
  );
  if (rowCount !== 1) throw new CheckpointMovedError(chain);
}

export async function recordHead(db: pg.Pool, chain: ChainKey, head: bigint): Promise<void> {
  await db.query('update indexer_checkpoints set head_number = $2, head_seen_at = now() where chain = $1', [chain, head]);
}

export async function haltChain(db: pg.Pool, chain: ChainKey, reason: string): Promise<void> {
  await db.query('update indexer_checkpoints set halted_reason = $2, updated_at = now() where chain = $1', [chain, reason]);
}

/**
 * All events of a batch in one COPY: the fastest way into PostgreSQL, one
 * round trip per batch, inside the batch's transaction.
 */
export async function insertEvents(client: pg.PoolClient, events: StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await copyInto(
    client,
    'indexer_events',
    ['chain', 'block_number', 'block_hash', 'block_timestamp', 'transaction_id', 'transaction_index', 'event_index', 'source', 'emitter', 'name', 'args', 'raw'],
    storedRows(events),
  );
}

/** Rows made as COPY consumes them, so a batch never exists twice in memory (as events and as rows). */
function* storedRows(events: StoredEvent[]): Generator<CopyValue[]> {
  for (const e of events) {
    yield [e.chain, e.blockNumber, e.blockHash, e.blockTimestamp, e.transactionId, e.transactionIndex, e.eventIndex, e.source, e.emitter, e.name, JSON.stringify(e.args), e.raw];
  }
}

/** Children found in a batch (journaled like projection rows when the batch is unfinalized). */
export async function insertChildren(client: pg.PoolClient, chain: ChainKey, children: Child[]): Promise<void> {
  if (children.length === 0) return;
  await client.query(
    `insert into indexer_children (chain, source, id, block_number)
     select $1, * from unnest($2::text[], $3::text[], $4::bigint[]) on conflict do nothing`,
    [chain, children.map((c) => c.source), children.map((c) => c.id), children.map((c) => c.blockNumber)],
  );
}

export async function storedChildren(db: pg.Pool | pg.PoolClient, chain: ChainKey): Promise<Child[]> {
  const { rows } = await db.query<{ source: string; id: string; block_number: bigint }>(
    'select source, id, block_number from indexer_children where chain = $1 order by block_number, source, id',
    [chain],
  );
  return rows.map((r) => ({ source: r.source, id: r.id, blockNumber: r.block_number }));
}

export async function insertBlock(client: pg.PoolClient, chain: ChainKey, block: BlockRef): Promise<void> {
  await client.query(
    `insert into indexer_blocks (chain, number, hash, parent_hash, timestamp) values ($1, $2, $3, $4, $5)
     on conflict (chain, number) do update set hash = excluded.hash, parent_hash = excluded.parent_hash, timestamp = excluded.timestamp`,
    [chain, block.number, block.hash, block.parentHash, block.timestamp],
  );
}

export async function storedBlock(db: pg.Pool | pg.PoolClient, chain: ChainKey, number: bigint): Promise<BlockRef | undefined> {
  const { rows } = await db.query<{ number: bigint; hash: string; parent_hash: string; timestamp: bigint }>(
    'select number, hash, parent_hash, timestamp from indexer_blocks where chain = $1 and number = $2',
    [chain, number],
  );
  const row = rows[0];
  return row && { number: row.number, hash: row.hash, parentHash: row.parent_hash, timestamp: row.timestamp };
}

/** Forgets headers and journal entries that finality has made unnecessary. */
export async function pruneFinalized(client: pg.PoolClient, chain: ChainKey, finalized: bigint, keep: bigint): Promise<void> {
  // Always keep the checkpoint's own header (`keep`): the next block's parent hash is checked against it.
  await client.query('delete from indexer_blocks where chain = $1 and number < $2 and number <> $3', [chain, finalized, keep]);
  await client.query('delete from indexer_journal where chain = $1 and block_number <= $2', [chain, finalized]);
}

/** Undoes everything above `ancestor`: projection changes and children (journal), raw events and headers. */
export async function rollbackAbove(client: pg.PoolClient, chain: ChainKey, ancestor: bigint): Promise<void> {
  await client.query("select set_config('ledgersync.block_number', '', true)");
  await client.query('select ledgersync_undo($1, $2)', [chain, ancestor]);
  await client.query('delete from indexer_events where chain = $1 and block_number > $2', [chain, ancestor]);
  await client.query('delete from indexer_blocks where chain = $1 and number > $2', [chain, ancestor]);
  // A source still catching up had stored its events above the ancestor too: they are gone with the rest.
  await client.query('update indexer_sources set synced_to = $2 where chain = $1 and synced_to > $2', [chain, ancestor]);
}

/** Readers that cache projection rows listen here: a NOTIFY is delivered when the changing transaction commits. */
export const PROJECTIONS_CHANNEL = 'ledgersync_projections';

/** The payload announcing a change to one projection on one chain: `<projection>@<chain>`. */
export function projectionChange(projection: string, chain: ChainKey): string {
  return `${projection}@${chain}`;
}

/** Tells cache holders that these projections changed (delivered on commit of the caller's transaction). */
export async function announceProjectionChanges(client: pg.PoolClient, chain: ChainKey, projections: string[]): Promise<void> {
  if (projections.length === 0) return;
  await client.query('select pg_notify($1, p) from unnest($2::text[]) as p', [PROJECTIONS_CHANNEL, projections.map((p) => projectionChange(p, chain))]);
}
