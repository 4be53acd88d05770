import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytea } from '../../db/schema.js';

/**
 * The relayer's tables: the outbox (intents), every transaction signed for them,
 * the app handler calls still owed, and webhook endpoints. Chain-neutral: a
 * family's own bookkeeping (EVM nonces) lives in its schema.
 */

/** Where an intent stands; `failed` and `confirmed` are final. */
export const INTENT_STATES = ['pending', 'signed', 'broadcast', 'included', 'confirmed', 'failed'] as const;
export type IntentState = (typeof INTENT_STATES)[number];

/** A write the application wants on chain, committed in the application's own transaction. */
export const intents = pgTable(
  'relayer_intents',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    /** Unique: submitting the same key again returns the existing intent. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** The app's name for this kind of write (e.g. `credentials.issue`): routes the result back. */
    kind: text('kind').notNull(),
    chain: text('chain').notNull(),
    /**
     * The platform account whose relayer handles it (lower-case address on EVM): it signs the
     * intent's transaction, or, for a transaction the user signed, sends it (and on Sui, when it
     * sponsors it, pays its gas and adds its signature).
     */
    signer: text('signer').notNull(),
    /** For a transaction the user signed on their device (the outbox got signed bytes): the user's address. Null: the platform signs. */
    sender: text('sender'),
    /** The contract's name when the target was found through the deployments file. */
    contract: text('contract'),
    /** What it calls: a contract address (a contract created at run time included). */
    target: text('target').notNull(),
    functionName: text('function_name').notNull(),
    /** The call's arguments in JSON form (integers as decimal strings), for people and handlers. */
    args: jsonb('args').notNull(),
    /** The encoded call, as the family signs it (EVM: the calldata, 0x-hex). */
    payload: text('payload').notNull(),
    value: numeric('value', { precision: 78, scale: 0 }).notNull().default('0'),
    state: text('state', { enum: INTENT_STATES }).notNull().default('pending'),
    /** Its place in the signer's sequence (the nonce on EVM); null until signed. */
    sequence: bigint('sequence', { mode: 'bigint' }),
    /** The most it may spend on execution (the gas limit on EVM). */
    feeLimit: numeric('fee_limit', { precision: 78, scale: 0 }),
    /** Who submitted it: the API key's id for a request over HTTP, null for the application's own code. */
    submittedBy: text('submitted_by'),
    /** Transient failures so far (RPC errors), for backoff; a revert is not retried. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** Head when the current transaction was last sent: how long it has been waiting. */
    sentAtBlock: bigint('sent_at_block', { mode: 'bigint' }),
    /** The mined transaction (whichever of its transactions won) and its block. */
    transactionId: text('transaction_id'),
    blockNumber: bigint('block_number', { mode: 'bigint' }),
    blockHash: text('block_hash'),
    receipt: jsonb('receipt'),
    /** The receipt's logs decoded with the contract's ABI. */
    events: jsonb('events'),
    /** The last error: { name, message, args? } — a decoded revert, or why it is waiting. */
    error: jsonb('error'),
    /** Times a reorg removed its inclusion. */
    reorgs: integer('reorgs').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('relayer_intents_idempotency_key').on(t.idempotencyKey),
    index('relayer_intents_work').on(t.chain, t.signer, t.state, t.id),
    index('relayer_intents_submitted_by').on(t.submittedBy, t.id),
    check('relayer_intents_state', sql`${t.state} in ('pending', 'signed', 'broadcast', 'included', 'confirmed', 'failed')`),
  ],
);

/** The app handlers an intent is told about its outcome with. */
export const HANDLER_HOOKS = ['onConfirmed', 'onFailed', 'onReorged'] as const;
export type HandlerHook = (typeof HANDLER_HOOKS)[number];

/**
 * Handler calls still owed to an app: a handler that threw is recorded here (its
 * changes rolled back to a savepoint, the intent's own state change kept) and
 * called again with backoff, in order per intent, until it succeeds; the row goes
 * in the transaction where it finally does.
 */
export const handlerCalls = pgTable(
  'relayer_handler_calls',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    intentId: bigint('intent_id', { mode: 'bigint' })
      .notNull()
      .references(() => intents.id),
    hook: text('hook', { enum: HANDLER_HOOKS }).notNull(),
    /** Failed calls so far. */
    attempts: integer('attempts').notNull().default(0),
    /** The last failure: { name, message }. */
    error: jsonb('error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('relayer_handler_calls_intent').on(t.intentId, t.id), index('relayer_handler_calls_due').on(t.nextAttemptAt)],
);

/** Every transaction signed: one per intent, more when fees were raised, plus gap fillers (no intent). */
export const transactions = pgTable(
  'relayer_transactions',
  {
    /** The transaction's id (its hash on EVM, its digest on Sui): known before it is sent. */
    id: text('id').primaryKey(),
    intentId: bigint('intent_id', { mode: 'bigint' }).references(() => intents.id),
    chain: text('chain').notNull(),
    signer: text('signer').notNull(),
    sequence: bigint('sequence', { mode: 'bigint' }),
    /** The signed bytes: every (re)broadcast sends exactly these. */
    raw: bytea('raw').notNull(),
    /** What it pays, in the family's terms (EVM: maxFeePerGas and maxPriorityFeePerGas, or gasPrice; decimal strings). */
    fees: jsonb('fees').notNull(),
    /** `sent` until one transaction of its sequence number is mined; then `mined` for it and `replaced` for the others. */
    status: text('status', { enum: ['signed', 'sent', 'mined', 'replaced'] }).notNull().default('signed'),
    /** The process that signed it (host:pid), for following a transaction through the logs. */
    signedBy: text('signed_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('relayer_transactions_intent').on(t.intentId), index('relayer_transactions_sequence').on(t.chain, t.signer, t.sequence)],
);

/**
 * Where intent state changes are posted (synced from WEBHOOK_URLS when a worker
 * starts). A trigger on relayer_intents queues one graphile-worker job per
 * endpoint and change, in the transaction that made the change.
 */
export const webhooks = pgTable('relayer_webhooks', {
  url: text('url').primaryKey(),
  /** Deliveries tried this many times, then left failed in graphile_worker.jobs (the dead letters). */
  maxAttempts: integer('max_attempts').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
