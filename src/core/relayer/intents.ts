import type pg from 'pg';
import { hostname } from 'node:os';
import type { ChainKey } from '../chain.js';
import type { InFlightIntent, Inclusion, PendingIntent, SignedTransaction } from './lifecycle.js';
import type { IntentError } from './types.js';

/**
 * The intent state machine, in one place: every claim and every transition is
 * one named function here, one SQL statement (or two) each, run in the caller's
 * transaction. Nothing else writes relayer_intents' state.
 *
 *   pending ──sign──► signed ──send──► broadcast ──include──► included ──final──► confirmed
 *      │  ▲                               ▲  │                    │  └──final, reverted──► failed
 *      │  └────────── sequence taken ─────┼──┘                    │
 *      └──reverted in simulation──► failed └────── reorged out ───┘
 *
 * A transaction the user signed enters `signed` (the outbox stores its bytes); when its
 * sequence is taken (the user replaced it) it goes broadcast → failed, never back to pending.
 */

/** Backoff for transient failures (RPC errors): 1 s, 2 s, 4 s … up to a minute. */
export function backoffSeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.min(attempts, 6));
}

/** Pending intents of one signer that are due, oldest first, locked for this transaction (others skip them). */
export async function claimPending(client: pg.PoolClient, chain: ChainKey, signer: string, limit: number): Promise<PendingIntent[]> {
  const { rows } = await client.query<{ id: bigint; kind: string; target: string; payload: string; value: string; attempts: number }>(
    `select id, kind, target, payload, value::text, attempts from relayer_intents
     where chain = $1 and signer = $2 and state = 'pending' and next_attempt_at <= now()
     order by id limit $3 for update skip locked`,
    [chain, signer, limit],
  );
  return rows;
}

/** pending → failed: the chain refused the call in simulation; nothing was signed. */
export async function failInSimulation(client: pg.PoolClient, failures: Array<{ id: bigint; error: IntentError }>): Promise<void> {
  if (failures.length === 0) return;
  await client.query(
    `update relayer_intents i set state = 'failed', error = u.error, updated_at = now()
     from unnest($1::bigint[], $2::jsonb[]) as u(id, error) where i.id = u.id`,
    [failures.map((f) => f.id), failures.map((f) => JSON.stringify(f.error))],
  );
}

/** pending, again later: a transient failure, retried with backoff. */
export async function postpone(client: pg.PoolClient, retries: Array<{ id: bigint; attempts: number; error: IntentError }>): Promise<void> {
  if (retries.length === 0) return;
  await client.query(
    `update relayer_intents i set attempts = attempts + 1, error = u.error, next_attempt_at = now() + make_interval(secs => u.delay), updated_at = now()
     from unnest($1::bigint[], $2::jsonb[], $3::float8[]) as u(id, error, delay) where i.id = u.id`,
    [retries.map((r) => r.id), retries.map((r) => JSON.stringify(r.error)), retries.map((r) => backoffSeconds(r.attempts))],
  );
}

const SIGNED_BY = `${hostname()}:${process.pid}`;

/** Keeps signed bytes before anything is sent: every (re)broadcast sends exactly these. */
export async function storeTransactions(client: pg.PoolClient, chain: ChainKey, signer: string, transactions: SignedTransaction[]): Promise<void> {
  if (transactions.length === 0) return;
  await client.query(
    `insert into relayer_transactions (id, intent_id, chain, signer, sequence, raw, fees, signed_by)
     select u.id, u.intent_id, $1, $2, u.sequence, u.raw, u.fees, $8
     from unnest($3::text[], $4::bigint[], $5::bigint[], $6::bytea[], $7::jsonb[]) as u(id, intent_id, sequence, raw, fees)`,
    [
      chain,
      signer,
      transactions.map((t) => t.id),
      transactions.map((t) => t.intentId),
      transactions.map((t) => t.sequence),
      transactions.map((t) => Buffer.from(t.raw)),
      transactions.map((t) => JSON.stringify(t.fees)),
      SIGNED_BY,
    ],
  );
}

/** pending → signed: its transaction is stored, with its sequence number and fee limit. */
export async function markSigned(client: pg.PoolClient, signed: Array<{ id: bigint; sequence: bigint | null; feeLimit: bigint }>): Promise<void> {
  if (signed.length === 0) return;
  await client.query(
    `update relayer_intents i set state = 'signed', sequence = u.sequence, fee_limit = u.fee_limit, error = null, updated_at = now()
     from unnest($1::bigint[], $2::bigint[], $3::numeric[]) as u(id, sequence, fee_limit)
     where i.id = u.id`,
    [signed.map((s) => s.id), signed.map((s) => s.sequence), signed.map((s) => s.feeLimit.toString())],
  );
}

/** Signed or broadcast intents due for (re)sending, with their latest transaction, in sequence order. */
export async function claimSendable(client: pg.PoolClient, chain: ChainKey, signer: string, limit: number) {
  const { rows } = await client.query<{
    id: bigint;
    state: 'signed' | 'broadcast';
    sender: string | null;
    attempts: number;
    error: IntentError | null;
    transaction_id: string;
    raw: Buffer;
  }>(
    `select i.id, i.state, i.sender, i.attempts, i.error, t.id as transaction_id, t.raw
     from relayer_intents i
     cross join lateral (
       select id, raw from relayer_transactions where intent_id = i.id order by created_at desc, id limit 1
     ) t
     where i.chain = $1 and i.signer = $2 and i.next_attempt_at <= now() and (i.state = 'signed' or i.state = 'broadcast')
     order by i.sequence limit $3
     for update of i skip locked`,
    [chain, signer, limit],
  );
  return rows;
}

/** signed → broadcast (or broadcast again): sent; sent again after `rebroadcastMs` until mined. */
export async function markBroadcast(client: pg.PoolClient, ids: bigint[], head: bigint, rebroadcastMs: number): Promise<void> {
  if (ids.length === 0) return;
  await client.query(
    `update relayer_intents set state = 'broadcast', sent_at_block = coalesce(sent_at_block, $2),
       next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
     where id = any($1)`,
    [ids, head, rebroadcastMs / 1000],
  );
  await client.query("update relayer_transactions set status = 'sent' where intent_id = any($1) and status = 'signed'", [ids]);
}

/** Not sent this time: the same bytes go out again after a backoff. */
export async function sendFailed(client: pg.PoolClient, id: bigint, attempts: number, error: IntentError): Promise<void> {
  await client.query(
    `update relayer_intents set attempts = attempts + 1, error = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now() where id = $1`,
    [id, JSON.stringify(error), backoffSeconds(attempts)],
  );
}

/**
 * signed → failed: the node kept refusing the bytes a user signed (no gas money, a
 * fee cap under the base fee) for as long as the relayer waits; none of them was ever
 * taken, and only the user can sign another.
 */
export async function refusedByNode(client: pg.PoolClient, id: bigint, error: IntentError): Promise<void> {
  // Its transaction stays `signed`: it was never sent.
  await client.query(`update relayer_intents set state = 'failed', error = $2, updated_at = now() where id = $1`, [id, JSON.stringify(error)]);
}

/** Where a pass over the intents in flight has got to: they are taken in (sequence, id) order (a user-signed intent's sequence is its sender's). */
export interface InFlightCursor {
  sequence: bigint;
  id: bigint;
}

/** Intents in flight after `after`, with their transactions, locked for this transaction. */
export async function claimInFlight(client: pg.PoolClient, chain: ChainKey, signer: string, limit: number, after: InFlightCursor): Promise<InFlightIntent[]> {
  const { rows } = await client.query<{
    id: bigint;
    kind: string;
    state: 'broadcast' | 'included';
    sequence: bigint;
    target: string;
    payload: string;
    value: string;
    fee_limit: string;
    sent_at_block: bigint | null;
    block_number: bigint | null;
    block_hash: string | null;
    succeeded: boolean | null;
    error: IntentError | null;
    sender: string | null;
  }>(
    `select id, kind, state, sequence, target, payload, value::text, fee_limit::text, sent_at_block, block_number, block_hash,
            (receipt->>'status') = 'success' as succeeded, error, sender
     from relayer_intents
     where chain = $1 and signer = $2 and state in ('broadcast', 'included') and (sequence, id) > ($4, $5)
     order by sequence, id limit $3
     for update skip locked`,
    [chain, signer, limit, after.sequence, after.id],
  );
  if (rows.length === 0) return [];
  const { rows: txs } = await client.query<{ intent_id: bigint; id: string; fees: Record<string, string> }>(
    'select intent_id, id, fees from relayer_transactions where intent_id = any($1) order by created_at, id',
    [rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    state: r.state,
    sequence: r.sequence,
    target: r.target,
    payload: r.payload,
    value: r.value,
    feeLimit: r.fee_limit,
    sentAtBlock: r.sent_at_block,
    blockNumber: r.block_number,
    blockHash: r.block_hash,
    succeeded: r.succeeded,
    error: r.error,
    sender: r.sender,
    transactions: txs.filter((t) => t.intent_id === r.id).map((t) => ({ id: t.id, fees: t.fees })),
  }));
}

/**
 * broadcast → included, or included → included elsewhere (a reorg moved it): where
 * each was mined, for the whole batch at once; the winning transaction is
 * `mined`, the others of the intent `replaced`.
 */
export async function recordInclusions(client: pg.PoolClient, inclusions: Array<{ id: bigint; inclusion: Inclusion; moved: boolean }>): Promise<void> {
  if (inclusions.length === 0) return;
  await client.query(
    `update relayer_intents i set state = 'included', transaction_id = u.transaction_id, block_number = u.block_number, block_hash = u.block_hash,
       receipt = u.receipt, events = u.events, reorgs = i.reorgs + u.moved, updated_at = now()
     from unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[], $6::jsonb[], $7::int[])
       as u(id, transaction_id, block_number, block_hash, receipt, events, moved)
     where i.id = u.id`,
    [
      inclusions.map((x) => x.id),
      inclusions.map((x) => x.inclusion.transactionId),
      inclusions.map((x) => x.inclusion.blockNumber),
      inclusions.map((x) => x.inclusion.blockHash),
      inclusions.map((x) => JSON.stringify(x.inclusion.receipt)),
      inclusions.map((x) => JSON.stringify(x.inclusion.events)),
      inclusions.map((x) => (x.moved ? 1 : 0)),
    ],
  );
  await client.query(
    `update relayer_transactions t set status = case when t.id = u.transaction_id then 'mined' else 'replaced' end
     from unnest($1::bigint[], $2::text[]) as u(intent_id, transaction_id)
     where t.intent_id = u.intent_id`,
    [inclusions.map((x) => x.id), inclusions.map((x) => x.inclusion.transactionId)],
  );
}

/** included → confirmed: its block is final and it succeeded. */
export async function confirm(client: pg.PoolClient, ids: bigint[]): Promise<void> {
  if (ids.length === 0) return;
  await client.query(`update relayer_intents set state = 'confirmed', error = null, updated_at = now() where id = any($1)`, [ids]);
}

/** included → failed: its block is final and it reverted. */
export async function failOnChain(client: pg.PoolClient, id: bigint, error: IntentError): Promise<void> {
  await client.query(`update relayer_intents set state = 'failed', error = $2, updated_at = now() where id = $1`, [id, JSON.stringify(error)]);
}

/** included → broadcast: the inclusion is gone; the same bytes go out again at once. */
export async function reorgedOut(client: pg.PoolClient, id: bigint, head: bigint): Promise<void> {
  await client.query(
    `update relayer_intents set state = 'broadcast', transaction_id = null, block_number = null, block_hash = null, receipt = null, events = null,
       reorgs = reorgs + 1, sent_at_block = $2, next_attempt_at = now(), updated_at = now() where id = $1`,
    [id, head],
  );
  await client.query(`update relayer_transactions set status = 'sent' where intent_id = $1`, [id]);
}

/**
 * broadcast → failed: a transaction the user signed can never be included (the user's
 * next transaction took its sequence number, or spent an object it consumes); it had no effect.
 */
export async function supersededBySender(client: pg.PoolClient, id: bigint, error: IntentError): Promise<void> {
  await client.query(`update relayer_transactions set status = 'replaced' where intent_id = $1`, [id]);
  await client.query(`update relayer_intents set state = 'failed', error = $2, updated_at = now() where id = $1`, [id, JSON.stringify(error)]);
}

/** broadcast → pending: another transaction took its sequence number, so it had no effect; it is signed again afresh. */
export async function backToPending(client: pg.PoolClient, id: bigint): Promise<void> {
  await client.query(`update relayer_transactions set status = 'replaced' where intent_id = $1`, [id]);
  await client.query(`update relayer_intents set state = 'pending', sequence = null, sent_at_block = null, next_attempt_at = now(), updated_at = now() where id = $1`, [id]);
}

/** broadcast, with a replacement stored: it counts as sent now, and goes out at once. */
export async function replaced(client: pg.PoolClient, id: bigint, head: bigint): Promise<void> {
  await client.query(`update relayer_intents set sent_at_block = $2, next_attempt_at = now(), updated_at = now() where id = $1`, [id, head]);
}

/** Why it waits (no state change): a taken sequence number being watched, a fee ceiling reached. */
export async function noteWaiting(client: pg.PoolClient, id: bigint, error: IntentError): Promise<void> {
  await client.query(`update relayer_intents set error = $2, updated_at = now() where id = $1`, [id, JSON.stringify(error)]);
}
