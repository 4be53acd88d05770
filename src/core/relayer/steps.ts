import type { PoolClient } from 'pg';
import type { RelayerContext } from './context.js';
import { callHandlers } from './handlers.js';
import type { InFlightIntent, Inclusion, SendFailure } from './lifecycle.js';
import type { IntentError } from './types.js';
import {
  backToPending,
  claimInFlight,
  claimPending,
  claimSendable,
  confirm,
  failInSimulation,
  failOnChain,
  markBroadcast,
  markSigned,
  noteWaiting,
  postpone,
  recordInclusions,
  refusedByNode,
  reorgedOut,
  replaced,
  sendFailed,
  storeTransactions,
  supersededBySender,
  type InFlightCursor,
} from './intents.js';

const START: InFlightCursor = { sequence: -1n, id: -1n };
import { isFinal } from '../finality.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * pending → signed, for a batch: the family simulates each call (a revert fails
 * the intent with its reason, spending nothing), then, in the same transaction,
 * takes sequence numbers, signs, and the bytes are stored. Nothing is sent here:
 * bytes exist in the database before they exist anywhere else, so a crash at any
 * point can only lead to sending these same bytes.
 */
export async function prepareIntents(ctx: RelayerContext): Promise<number> {
  return inTransaction(ctx.pool, async (client) => {
    const capacity = await ctx.lifecycle.capacity();
    if (capacity <= 0) return 0;
    const pending = await claimPending(client, ctx.chain, ctx.signer, Math.min(ctx.batchSize, capacity));
    if (pending.length === 0) return 0;
    const prepared = await ctx.lifecycle.prepare(pending);
    const reverted = prepared.flatMap((p) => (p.outcome === 'reverted' ? [{ id: p.intent.id, error: p.error }] : []));
    await failInSimulation(client, reverted);
    await callHandlers(client, ctx, reverted.map((r) => ({ intentId: r.id, hook: 'onFailed' as const })));
    ctx.metrics.settled('failed', reverted.length);
    await postpone(client, prepared.flatMap((p) => (p.outcome === 'retry' ? [{ id: p.intent.id, attempts: p.intent.attempts, error: p.error }] : [])));
    const ready = prepared.flatMap((p) => (p.outcome === 'ready' ? [{ intent: p.intent, feeLimit: p.feeLimit }] : []));
    if (ready.length > 0) {
      const signed = await ctx.lifecycle.sign(client, ready);
      await storeTransactions(client, ctx.chain, ctx.signer, signed);
      ctx.metrics.signed(signed.length);
      // An intent the family could not sign now (no free gas coin on Sui) stays pending, untouched.
      const byIntent = new Map(signed.map((t) => [t.intentId, t]));
      await markSigned(client, ready.flatMap(({ intent, feeLimit }) => (byIntent.has(intent.id) ? [{ id: intent.id, sequence: byIntent.get(intent.id)!.sequence, feeLimit }] : [])));
    }
    return pending.length;
  });
}

/**
 * signed → broadcast: sends each intent's latest signed bytes, and sends them
 * again every `rebroadcastMs` until one is mined (a node may drop a transaction
 * from its pool; the same bytes can never have a second effect).
 */
export async function sendIntents(ctx: RelayerContext, head: bigint): Promise<number> {
  return inTransaction(ctx.pool, async (client) => {
    const rows = await claimSendable(client, ctx.chain, ctx.signer, ctx.batchSize);
    if (rows.length === 0) return 0;
    const failures = await ctx.lifecycle.send(rows.map((r) => ({ id: r.transaction_id, raw: r.raw })));
    await markBroadcast(client, rows.filter((_, i) => failures[i] === undefined).map((r) => r.id), head, ctx.rebroadcastMs);
    const refused: bigint[] = [];
    for (const [i, row] of rows.entries()) {
      const failure = failures[i];
      if (failure === undefined) continue;
      ctx.metrics.broadcastError();
      const refusedSince = refusalSince(failure, row.error);
      if (refusedAllAlong(row, refusedSince, ctx.refusedSignedMs)) {
        ctx.logger.info({ intent: row.id.toString(), sender: row.sender, error: failure.message }, 'the node refused a user-signed transaction all along; the intent failed');
        await refusedByNode(client, row.id, {
          name: 'RefusedByNode',
          message: `the node refused the transaction ${row.sender} signed since ${refusedSince} (last: ${failure.message}); it was never sent, and only its sender can sign another`,
        });
        refused.push(row.id);
        continue;
      }
      ctx.logger.warn({ intent: row.id.toString(), transaction: row.transaction_id, error: failure.message }, 'broadcast failed; will send the same bytes again');
      await sendFailed(client, row.id, row.attempts, refusedSince ? { name: 'BroadcastRefused', message: failure.message, refusedSince } : { name: 'BroadcastError', message: failure.message });
    }
    ctx.metrics.settled('failed', refused.length);
    await callHandlers(client, ctx, refused.map((intentId) => ({ intentId, hook: 'onFailed' as const })));
    return rows.length;
  });
}

/**
 * Since when the node has refused these bytes at every send: the start of an
 * unbroken run of refusals, which this one continues or begins. Undefined when
 * the node failed in itself (a timeout, a 5xx), which ends the run: only the
 * node's judgment of the transaction counts.
 */
function refusalSince(failure: SendFailure, previous: IntentError | null): string | undefined {
  if (!failure.refused) return undefined;
  return (previous?.name === 'BroadcastRefused' ? previous.refusedSince : undefined) ?? new Date().toISOString();
}

/**
 * Bytes a user signed (the intent has a sender) that the node has refused for
 * `refusedSignedMs` and never taken (still `signed`): the intent fails, since
 * only the user can sign others.
 */
function refusedAllAlong(row: { sender: string | null; state: string }, refusedSince: string | undefined, refusedSignedMs: number): refusedSince is string {
  return row.sender !== null && row.state === 'signed' && refusedSince !== undefined && Date.now() - Date.parse(refusedSince) >= refusedSignedMs;
}

/**
 * Follows intents in flight to finality, by what the family observes: broadcast →
 * included when one of its transactions is mined; included → confirmed (or
 * failed, if it reverted) once its block is final; included → broadcast again when
 * a reorg removes it. A transaction waiting longer than `stuckBlocks` is replaced
 * with higher fees; a sequence number taken by someone else sends the intent back
 * to pending. Nothing moves on what is not known for sure, and `confirmed` and
 * `failed` are final: nothing is said of an intent after them.
 */
export async function trackIntents(ctx: RelayerContext, head: bigint, after: InFlightCursor = START): Promise<{ count: number; last: InFlightCursor }> {
  return inTransaction(ctx.pool, async (client) => {
    const intents = await claimInFlight(client, ctx.chain, ctx.signer, ctx.batchSize, after);
    if (intents.length === 0) return { count: 0, last: after };
    const observations = await ctx.lifecycle.observe(intents, head);
    const final = (blockNumber: bigint) => isFinal(blockNumber, head, ctx.finalityDepth);

    const inclusions: Array<{ id: bigint; inclusion: Inclusion; moved: boolean }> = [];
    const deep: Array<{ intent: InFlightIntent; blockNumber: bigint; succeeded: boolean }> = [];
    const reorged: bigint[] = [];
    const failed: bigint[] = [];
    for (const intent of intents) {
      const seen = observations.get(intent.id) ?? { kind: 'unknown' };
      switch (seen.kind) {
        case 'unknown':
          break;
        case 'stillIncluded':
          if (final(intent.blockNumber!)) deep.push({ intent, blockNumber: intent.blockNumber!, succeeded: intent.succeeded === true });
          break;
        case 'included': {
          const { inclusion } = seen;
          const moved = intent.state === 'included';
          if (moved) reorged.push(intent.id);
          inclusions.push({ id: intent.id, inclusion, moved });
          if (final(inclusion.blockNumber)) deep.push({ intent, blockNumber: inclusion.blockNumber, succeeded: inclusion.succeeded });
          break;
        }
        case 'gone':
          await reorgedOut(client, intent.id, head);
          reorged.push(intent.id);
          break;
        case 'sequenceTaken':
          if (await sequenceTaken(ctx, client, intent, head)) failed.push(intent.id);
          break;
        case 'waiting':
          if (intent.sentAtBlock === null || head - intent.sentAtBlock < BigInt(ctx.stuckBlocks)) break;
          if (intent.sender === null) await replaceStuck(ctx, client, intent, head);
          else if (intent.error?.name !== 'NotIncludedYet') await noteWaiting(client, intent.id, notIncluded(intent, head));
          break;
      }
    }
    await recordInclusions(client, inclusions);
    const confirmed = deep.filter((d) => d.succeeded).map((d) => d.intent.id);
    await confirm(client, confirmed);
    for (const { intent, blockNumber } of deep.filter((d) => !d.succeeded)) {
      await failOnChain(client, intent.id, await ctx.lifecycle.explainFailure(intent, blockNumber));
      failed.push(intent.id);
    }
    ctx.metrics.settled('confirmed', confirmed.length);
    ctx.metrics.settled('failed', failed.length);
    ctx.metrics.reorged(reorged.length);
    // In the order things happened: a reorg of an intent before its confirmation.
    await callHandlers(client, ctx, [
      ...reorged.map((intentId) => ({ intentId, hook: 'onReorged' as const })),
      ...confirmed.map((intentId) => ({ intentId, hook: 'onConfirmed' as const })),
      ...failed.map((intentId) => ({ intentId, hook: 'onFailed' as const })),
    ]);
    const last = intents.at(-1)!;
    return { count: intents.length, last: { sequence: last.sequence, id: last.id } };
  });
}

/**
 * Another transaction (sent with the same key outside the relayer) took this
 * intent's sequence number, and none of its own is mined. Once that has held for
 * the finality depth (at least a block: a receipt the node has yet to show us
 * would appear by then), the intent goes back to pending and is signed again
 * with a new number; it had no effect, so this cannot make it happen twice.
 */
async function sequenceTaken(ctx: RelayerContext, client: PoolClient, intent: InFlightIntent, head: bigint): Promise<boolean> {
  if (intent.error?.name !== 'SequenceTaken') {
    await noteWaiting(client, intent.id, { name: 'SequenceTaken', message: `sequence number ${intent.sequence} was used by another transaction`, seenAtBlock: head.toString() });
    return false;
  }
  const depth = ctx.finalityDepth > 1n ? ctx.finalityDepth : 1n;
  if (head - BigInt(intent.error.seenAtBlock ?? head) < depth) return false;
  if (intent.sender !== null) {
    // The user's own next transaction took its place: only the user can sign another, so it fails (its app releases what it held).
    ctx.logger.info({ intent: intent.id.toString(), sender: intent.sender, sequence: intent.sequence.toString() }, 'a user-signed transaction was superseded by another of its sender; the intent failed');
    await supersededBySender(client, intent.id, {
      name: 'SupersededBySender',
      message: `the sender ${intent.sender} used what this transaction consumes (its nonce, or an object) for another transaction: it can never be included`,
    });
    await ctx.lifecycle.resync(client);
    return true;
  }
  ctx.logger.warn({ intent: intent.id.toString(), sequence: intent.sequence.toString() }, 'sequence number taken by another transaction; signing the intent again with a new one');
  await backToPending(client, intent.id);
  await ctx.lifecycle.resync(client);
  return false;
}

/** Why a user-signed transaction waits: the relayer cannot raise fees the user signed. */
function notIncluded(intent: InFlightIntent, head: bigint) {
  return {
    name: 'NotIncludedYet',
    message: `not included after ${head - intent.sentAtBlock!} blocks; signed by the user ${intent.sender}, so its fees cannot be raised: it is sent again as is until it is included or the user replaces it`,
  };
}

/** Signs the same call at the same sequence number with higher fees, when the family can; else notes why it waits. */
async function replaceStuck(ctx: RelayerContext, client: PoolClient, intent: InFlightIntent, head: bigint): Promise<void> {
  const outcome = await ctx.lifecycle.replace(intent, head);
  if ('waiting' in outcome) {
    await noteWaiting(client, intent.id, outcome.waiting);
    return;
  }
  const { replacement } = outcome;
  await storeTransactions(client, ctx.chain, ctx.signer, [replacement]);
  ctx.metrics.signed(1);
  await replaced(client, intent.id, head);
  ctx.metrics.replaced();
  ctx.logger.info({ intent: intent.id.toString(), sequence: intent.sequence.toString(), head: head.toString(), sentAt: String(intent.sentAtBlock) }, 'replacing a transaction stuck in the pool with higher fees');
}
