import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per chain this deployment talks to: the head the indexer last saw. */
export const chains = pgTable('chains', {
  chainId: bigint('chain_id', { mode: 'number' }).primaryKey(),
  headNumber: bigint('head_number', { mode: 'bigint' }),
  headHash: text('head_hash'),
  headSeenAt: timestamp('head_seen_at', { withTimezone: true }),
});
