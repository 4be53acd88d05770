import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Hex } from 'viem';
import type { ProjectionStore, StoredEvent } from './types.js';

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

/**
 * Creates the checkpoint at `below`, the block just below the first one to index,
 * and keeps its header: when indexing starts near the head, a reorg of the first
 * block is undone by rolling back to it like any other.
 */
export async function initCheckpoint(client: pg.PoolClient, chainId: number, below: BlockHeader): Promise<void> {
  const { rowCount } = await client.query(
    `insert into indexer_checkpoints (chain_id, block_number, block_hash, block_timestamp) values ($1, $2, $3, $4)
     on conflict (chain_id) do nothing`,
    [chainId, below.number, below.hash, below.timestamp],
  );
  if (rowCount === 1 && below.number >= 0n) await insertBlock(client, chainId, below);
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

type CopyValue = string | number | bigint | boolean | null;

/**
 * All events of a batch in one COPY: the fastest way into PostgreSQL, one
 * round trip per batch, inside the batch's transaction.
 */
export async function insertEvents(client: pg.PoolClient, events: StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await copyInto(
    client,
    'indexer_events',
    ['chain_id', 'block_number', 'block_hash', 'block_timestamp', 'transaction_hash', 'transaction_index', 'log_index', 'address', 'event_name', 'args', 'topics', 'data'],
    storedRows(events),
  );
}

/** Rows made as COPY consumes them, so a batch never exists twice in memory (as events and as rows). */
function* storedRows(events: StoredEvent[]): Generator<CopyValue[]> {
  for (const e of events) {
    yield [e.chainId, e.blockNumber, e.blockHash, e.blockTimestamp, e.transactionHash, e.transactionIndex, e.logIndex, e.address, e.eventName, JSON.stringify(e.args), `{${e.topics.join(',')}}`, e.data];
  }
}

/** A projection's view of the batch transaction: plain queries, and COPY for bulk inserts. */
export function projectionStore(client: pg.PoolClient): ProjectionStore {
  return {
    query: (text, values) => client.query(text, values),
    copy: async (table, columns, rows) => {
      if (rows.length > 0) await copyInto(client, table, columns, rows);
    },
  };
}

/** Bulk insert with COPY; values are written as text, null as NULL. */
async function copyInto(client: pg.PoolClient, table: string, columns: string[], rows: Iterable<CopyValue[]>): Promise<void> {
  const stream = client.query(copyFrom(`copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) from stdin`));
  await pipeline(Readable.from(copyLines(rows)), stream);
}

/**
 * COPY text format, 1,000 rows per chunk. Rows are joined into one flat string per
 * chunk: growing a string with += builds a rope that keeps every piece alive.
 */
function* copyLines(rows: Iterable<CopyValue[]>): Generator<string> {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(row.map((v) => (v === null ? '\\N' : typeof v === 'string' ? copyText(v) : String(v))).join('\t'));
    if (lines.length === 1000) yield lines.splice(0).join('\n') + '\n';
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Escapes the characters COPY's text format gives a meaning to. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
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
  await announceProjectionChange(client, chainId);
}

/** Readers that cache projection rows listen here: a NOTIFY is delivered when the changing transaction commits. */
export const PROJECTIONS_CHANNEL = 'ledgersync_projections';

/** Tells cache holders that projections of `chainId` changed (on commit of the caller's transaction). */
export async function announceProjectionChange(client: pg.PoolClient, chainId: number): Promise<void> {
  await client.query('select pg_notify($1, $2)', [PROJECTIONS_CHANNEL, String(chainId)]);
}
