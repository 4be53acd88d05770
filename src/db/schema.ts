import { bigint, bigserial, char, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The engine's own tables for reading chains (apps' projection tables live in
 * their own migrations). Chains are named by key (`evm:31337`); hashes and
 * addresses are text as the family writes them (lower-case 0x-hex on EVM).
 */

export const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** One checkpoint per chain: every event of its live sources up to `blockNumber` is stored and projected. */
export const checkpoints = pgTable('indexer_checkpoints', {
  chain: text('chain').primaryKey(),
  blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  blockHash: text('block_hash').notNull(),
  blockTimestamp: bigint('block_timestamp', { mode: 'bigint' }),
  /** The latest head the indexer saw, for lag and readiness. */
  headNumber: bigint('head_number', { mode: 'bigint' }),
  headSeenAt: timestamp('head_seen_at', { withTimezone: true }),
  /** Set when indexing of the chain stopped on purpose (a reorg deeper than finality, an error retrying cannot cure). */
  haltedReason: text('halted_reason'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Each source's own progress. A source added to the configuration of a chain
 * that is already indexed fetches its own history (`catching-up`, up to
 * `synced_to`) until it reaches the chain's checkpoint (`fetched`); the
 * projections that read it are then replayed from stored events, and it goes
 * on with the others (`live`).
 */
export const sources = pgTable(
  'indexer_sources',
  {
    chain: text('chain').notNull(),
    name: text('name').notNull(),
    startBlock: bigint('start_block', { mode: 'bigint' }).notNull(),
    state: text('state', { enum: ['live', 'catching-up', 'fetched'] }).notNull(),
    /** While catching up: its events are stored up to this block. */
    syncedTo: bigint('synced_to', { mode: 'bigint' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.name] })],
);

/** Every decoded event of every source: what projections are rebuilt from. */
export const events = pgTable(
  'indexer_events',
  {
    chain: text('chain').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    blockHash: text('block_hash').notNull(),
    blockTimestamp: bigint('block_timestamp', { mode: 'bigint' }).notNull(),
    transactionId: text('transaction_id').notNull(),
    transactionIndex: integer('transaction_index').notNull(),
    eventIndex: integer('event_index').notNull(),
    source: text('source').notNull(),
    emitter: text('emitter').notNull(),
    name: text('name').notNull(),
    /** Decoded arguments; integers as decimal strings so no precision is lost. */
    args: jsonb('args').notNull(),
    /** The family's raw payload (EVM: the topics, then the data), to decode again with another ABI. */
    raw: bytea('raw').notNull(),
  },
  // One position may be kept by two sources (a Sui transaction matching two filters): each stores it once.
  (t) => [primaryKey({ columns: [t.chain, t.blockHash, t.eventIndex, t.source] }), index('indexer_events_order').on(t.chain, t.blockNumber, t.eventIndex)],
);

/**
 * Sets of addresses that sources follow (a payments app's users), kept by the
 * apps. Readers load a set once and follow its changes by notification
 * (channel `ledgersync_address_sets`), so an address added a moment ago counts
 * from the next block or checkpoint indexed.
 */
export const addressSets = pgTable(
  'address_sets',
  {
    name: text('name').notNull(),
    address: text('address').notNull(),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.name, t.address] })],
);

/** Headers of the unfinalized window (and the checkpoint's), to detect reorgs by parent hash. */
export const blocks = pgTable(
  'indexer_blocks',
  {
    chain: text('chain').notNull(),
    number: bigint('number', { mode: 'bigint' }).notNull(),
    hash: text('hash').notNull(),
    parentHash: text('parent_hash').notNull(),
    timestamp: bigint('timestamp', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.number] })],
);

/**
 * Contracts found by factory sources, each indexed from the block that created
 * it. Journaled like a projection: a reorg that removes a creation removes the child.
 */
export const children = pgTable(
  'indexer_children',
  {
    chain: text('chain').notNull(),
    source: text('source').notNull(),
    id: text('id').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.source, t.id] })],
);

/**
 * Every change a projection made in an unfinalized block, written by a trigger,
 * so that a reorg can undo exactly those changes (newest first).
 */
export const journal = pgTable(
  'indexer_journal',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chain: text('chain').notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    tableName: text('table_name').notNull(),
    op: char('op', { length: 1 }).notNull(),
    oldRow: jsonb('old_row'),
    newRow: jsonb('new_row'),
  },
  (t) => [index('indexer_journal_block').on(t.chain, t.blockNumber)],
);

/**
 * API keys. Each has roles that apps define (`admin` is the engine's: it reads
 * every intent) and an app-defined scope (e.g. the institution a key speaks
 * for). Only a SHA-256 of the key is kept: keys are 32 random bytes, so a fast
 * hash is enough, and a database leak does not leak usable keys.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  keyHash: text('key_hash').notNull().unique(),
  name: text('name').notNull(),
  roles: text('roles').array().notNull(),
  scope: jsonb('scope').notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
