import { bigint, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** The next nonce to hand out per signer: taken under this row's lock, in the transaction that stores the signed bytes. */
export const nonces = pgTable(
  'evm_nonces',
  {
    chain: text('chain').notNull(),
    signer: text('signer').notNull(),
    nextNonce: bigint('next_nonce', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.signer] })],
);
