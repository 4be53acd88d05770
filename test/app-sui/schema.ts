import { bigint, boolean, integer, numeric, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** Every transaction a source kept (`<source>.Transaction`), with the sources that kept it. */
export const transactions = pgTable(
  'sui_transactions',
  {
    chain: text('chain').notNull(),
    digest: text('digest').notNull(),
    checkpoint: bigint('checkpoint', { mode: 'bigint' }).notNull(),
    /** Its index in the checkpoint (0 is the consensus commit prologue). */
    txIndex: integer('tx_index').notNull(),
    sender: text('sender').notNull(),
    success: boolean('success').notNull(),
    error: text('error'),
    /** The sources that kept it, sorted: `payments`, `wallets`. */
    sources: text('sources').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.digest] })],
);

/** The payments package's `PaymentSent` events. */
export const payments = pgTable(
  'sui_payments',
  {
    chain: text('chain').notNull(),
    digest: text('digest').notNull(),
    /** The event's position in its checkpoint (engine's event index). */
    eventIndex: integer('event_index').notNull(),
    checkpoint: bigint('checkpoint', { mode: 'bigint' }).notNull(),
    payer: text('payer').notNull(),
    recipient: text('recipient').notNull(),
    amount: numeric('amount', { precision: 20, scale: 0 }).notNull(),
    coinType: text('coin_type').notNull(),
    memo: text('memo').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.digest, t.eventIndex] })],
);

/** Per followed address and coin type: the sum of its balance changes since it was followed. */
export const balances = pgTable(
  'sui_balances',
  {
    chain: text('chain').notNull(),
    address: text('address').notNull(),
    coinType: text('coin_type').notNull(),
    balance: numeric('balance', { precision: 40, scale: 0 }).notNull(),
    changes: integer('changes').notNull(),
    lastCheckpoint: bigint('last_checkpoint', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.address, t.coinType] })],
);
