import { sql } from 'drizzle-orm';
import { bigint, check, index, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The owned objects a Sui signer's relayer signs with, and which transaction holds
 * each: its gas coins (SUI), the coins of other types it pays with, and the objects
 * intents name. Sui orders a signer's transactions by nothing but their objects: a
 * second transaction signed on an object version another one already holds
 * equivocates, and the object is lost until the epoch ends. So an object is
 * `locked` (by a transaction, and the intent it was signed for) in the same
 * PostgreSQL transaction that stores the signed bytes, and is `free` again only
 * once the chain says that version is spent: the transaction's effects (with the
 * new version), or the object seen at a later version.
 */
export const ownedObjects = pgTable(
  'sui_owned_objects',
  {
    chain: text('chain').notNull(),
    objectId: text('object_id').notNull(),
    /** The signer's address, long form. */
    signer: text('signer').notNull(),
    objectType: text('object_type').notNull(),
    /** For a coin (`0x2::coin::Coin<T>`): T, normalized; null for any other object. */
    coinType: text('coin_type'),
    /** A coin's balance in its smallest unit (MIST for SUI) at `version`. */
    balance: numeric('balance', { precision: 20, scale: 0 }),
    /** The latest version we know: from effects of our own transactions, or the chain's listing, never going back. */
    version: bigint('version', { mode: 'bigint' }).notNull(),
    digest: text('digest').notNull(),
    state: text('state', { enum: ['free', 'locked'] }).notNull().default('free'),
    /** The transaction signed on `version` (its digest), while locked. */
    lockedByTransaction: text('locked_by_transaction'),
    /** Its intent; null for the family's own transactions (splitting and merging gas coins). */
    lockedByIntent: bigint('locked_by_intent', { mode: 'bigint' }),
    /** What the transaction does with it: pays gas with it, splits coins it spends off it (`funds`), or passes it to a Move call. */
    lockedAs: text('locked_as', { enum: ['gas', 'funds', 'object'] }),
    /**
     * A gas coin reserved for a sponsored transaction the user has yet to sign (locked by its
     * digest, no intent yet): the reservation ends then, unless the signed transaction was
     * submitted before (the lock then belongs to its intent, and this is null).
     */
    reservedUntil: timestamp('reserved_until', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.chain, t.objectId] }),
    index('sui_owned_objects_signer').on(t.chain, t.signer, t.coinType, t.state),
    index('sui_owned_objects_transaction').on(t.lockedByTransaction),
    check('sui_owned_objects_lock', sql`(${t.state} = 'free') = (${t.lockedByTransaction} is null) and (${t.state} = 'free') = (${t.lockedAs} is null)`),
  ],
);
