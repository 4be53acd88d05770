import { bigint, bigserial, boolean, char, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The engine's own tables: the indexer's and the API keys (the relayer's are in
 * src/relayer/schema.ts). Apps' projection tables live in src/apps/<app>/schema.ts.
 * Hashes and addresses are stored as lower-case 0x-hex text.
 */

/** One checkpoint per chain: every event up to `blockNumber` is stored and projected. */
export const checkpoints = pgTable('indexer_checkpoints', {
  chainId: bigint('chain_id', { mode: 'number' }).primaryKey(),
  blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  blockHash: text('block_hash').notNull(),
  blockTimestamp: bigint('block_timestamp', { mode: 'bigint' }),
  /** The latest head the indexer saw, for lag and readiness. */
  headNumber: bigint('head_number', { mode: 'bigint' }),
  headSeenAt: timestamp('head_seen_at', { withTimezone: true }),
  /** Set when indexing of the chain stopped on purpose (a reorg deeper than finality). */
  haltedReason: text('halted_reason'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Every decoded log of every registered contract: the source projections are rebuilt from. */
export const events = pgTable(
  'indexer_events',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    blockHash: text('block_hash').notNull(),
    blockTimestamp: bigint('block_timestamp', { mode: 'bigint' }).notNull(),
    transactionHash: text('transaction_hash').notNull(),
    transactionIndex: integer('transaction_index').notNull(),
    logIndex: integer('log_index').notNull(),
    address: text('address').notNull(),
    eventName: text('event_name').notNull(),
    /** Decoded arguments; integers as decimal strings so no precision is lost. */
    args: jsonb('args').notNull(),
    topics: text('topics').array().notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.blockHash, t.logIndex] }), index('indexer_events_order').on(t.chainId, t.blockNumber, t.logIndex)],
);

/** Headers of the unfinalized window, to detect reorgs by parent hash. */
export const blocks = pgTable(
  'indexer_blocks',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    number: bigint('number', { mode: 'bigint' }).notNull(),
    hash: text('hash').notNull(),
    parentHash: text('parent_hash').notNull(),
    timestamp: bigint('timestamp', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.number] })],
);

/**
 * Every change a projection made in an unfinalized block, written by a trigger,
 * so that a reorg can undo exactly those changes (newest first).
 */
export const journal = pgTable(
  'indexer_journal',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
    tableName: text('table_name').notNull(),
    op: char('op', { length: 1 }).notNull(),
    oldRow: jsonb('old_row'),
    newRow: jsonb('new_row'),
  },
  (t) => [index('indexer_journal_block').on(t.chainId, t.blockNumber)],
);

/**
 * API keys, for writes and for reading intents back. Each is scoped to one
 * institution (issue, revoke; it reads the intents it submitted) or to
 * administration (register institutions; it reads every intent). Only a SHA-256 of the key
 * is kept: keys are 32 random bytes, so a fast hash is enough (no password to
 * stretch), and a database leak does not leak usable keys.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  keyHash: text('key_hash').notNull().unique(),
  /** The institution it speaks for; null for an admin key. */
  institution: text('institution'),
  admin: boolean('admin').notNull().default(false),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
