import { bigint, integer, numeric, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** What the ledger holds: the last value written per key (from `ledger.Written`). */
export const entries = pgTable(
  'ledger_entries',
  {
    chain: text('chain').notNull(),
    key: text('key').notNull(),
    value: numeric('value', { precision: 78, scale: 0 }).notNull(),
    writer: text('writer').notNull(),
    block: bigint('block', { mode: 'bigint' }).notNull(),
    transaction: text('transaction').notNull(),
    /** Writes of this key so far. */
    writes: integer('writes').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.key] })],
);

/** The factory's children (from `factory.ChildCreated`) and their pings (from `children.Pinged`). */
export const children = pgTable(
  'ledger_children',
  {
    chain: text('chain').notNull(),
    address: text('address').notNull(),
    creator: text('creator').notNull(),
    salt: text('salt').notNull(),
    createdBlock: bigint('created_block', { mode: 'bigint' }).notNull(),
    pings: integer('pings').notNull().default(0),
    lastPing: numeric('last_ping', { precision: 78, scale: 0 }),
  },
  (t) => [primaryKey({ columns: [t.chain, t.address] })],
);
