import type pg from 'pg';
import { keccak256, type Hex, type TransactionReceipt, type TransactionSerializable } from 'viem';
import { createDecoder, toJson } from '../indexer/decode.js';

import type { RelayerContext } from './context.js';
import { bumpFees, currentFees, type Fees } from './fees.js';
import { feeFields, storeTransactions } from './prepare.js';
import { decodeRevert } from './revert.js';
import { callHandlers } from './settle.js';
import { isFinal } from '../chain/finality.js';
import type { DecodedEvent, IntentError } from './types.js';
import { inTransaction } from '../db/transaction.js';

interface Tracked {
  id: bigint;
  kind: string;
  state: 'broadcast' | 'included';
  nonce: bigint;
  to_address: Hex;
  data: Hex;
  value: string;
  gas_limit: string;
  sent_at_block: bigint | null;
  block_number: bigint | null;
  block_hash: Hex | null;
  receipt_status: 'success' | 'reverted' | null;
  error: IntentError | null;
}

interface SignedTransaction {
  intent_id: bigint;
  hash: Hex;
  max_fee_per_gas: string | null;
  max_priority_fee_per_gas: string | null;
  gas_price: string | null;
}

/**
 * Follows sent intents to finality: broadcast → included when a receipt of any of
 * their transactions appears; included → confirmed (or failed, if it reverted)
 * once its block is final (src/chain/finality.ts); included → broadcast again
 * when a reorg removes it. A transaction waiting longer than `stuckBlocks` is
 * replaced with higher fees; a nonce taken by someone else sends the intent back
 * to pending.
 *
 * Only what the chain positively says moves an intent: an inclusion is undone
 * when the block at its height is seen with another hash, never because a read
 * failed or the node has not reached that height (the intent waits for the next
 * pass). `confirmed` and `failed` are final: nothing is said of an intent after.
 */
export async function trackIntents(ctx: RelayerContext, head: bigint, afterNonce = -1n): Promise<{ count: number; lastNonce: bigint }> {
  return inTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<Tracked>(
      `select id, kind, state, nonce, to_address, data, value::text, gas_limit::text, sent_at_block, block_number, block_hash,
              receipt->>'status' as receipt_status, error
       from relayer_intents
       where chain_id = $1 and signer = $2 and state in ('broadcast', 'included') and nonce > $4
       order by nonce limit $3
       for update skip locked`,
      [ctx.chain.chainId, ctx.signer, ctx.batchSize, afterNonce],
    );
    if (rows.length === 0) return { count: 0, lastNonce: afterNonce };
    const { rows: txs } = await client.query<SignedTransaction>(
      `select intent_id, hash, max_fee_per_gas::text, max_priority_fee_per_gas::text, gas_price::text
       from relayer_transactions where intent_id = any($1) order by created_at, hash`,
      [rows.map((r) => r.id)],
    );
    // What the chain says, in few calls: the signer's mined-nonce count; one header per block holding
    // included intents; receipts only where something can have changed (a transaction that can be
    // mined, its nonce being below the count, or an included one whose block was replaced).
    const chainNonce = BigInt(await ctx.chain.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'latest' }));
    const blocks = [...new Set(rows.filter((r) => r.state === 'included').map((r) => r.block_number!))];
    const canonical = new Map(await Promise.all(blocks.map(async (n) => [n, await canonicalHash(ctx, n)] as const)));
    const replacedBlock = (intent: Tracked) => {
      const seen = canonical.get(intent.block_number!);
      return seen !== undefined && seen !== intent.block_hash;
    };
    const needReceipts = new Set(rows.filter((r) => (r.state === 'included' ? replacedBlock(r) : r.nonce < chainNonce)).map((r) => r.id));
    const asked = txs.filter((t) => needReceipts.has(t.intent_id));
    const fetched = await Promise.all(asked.map((t) => receiptOf(ctx, t.hash)));
    const receipts = new Map(asked.map((t, i) => [t.hash, fetched[i]!]));
    const final = (blockNumber: bigint) => isFinal(blockNumber, head, ctx.finalityDepth);

    // The common outcomes (included, confirmed) are written for the whole batch at once; the rare
    // ones (reverted, reorged out, nonce taken, stuck) one by one.
    const inclusions: Inclusion[] = [];
    const deep: Tracked[] = [];
    const reorged: bigint[] = [];
    for (const intent of rows) {
      if (intent.state === 'included' && !replacedBlock(intent)) {
        // Still in its block (or nothing is known of that block this time): it can only become final.
        if (canonical.get(intent.block_number!) === intent.block_hash && final(intent.block_number!)) deep.push(intent);
        continue;
      }
      const mine = txs.filter((t) => t.intent_id === intent.id);
      if (!needReceipts.has(intent.id)) {
        if (intent.sent_at_block !== null && head - intent.sent_at_block >= BigInt(ctx.stuckBlocks)) await replace(client, ctx, intent, mine.at(-1)!, head);
        continue;
      }
      const answers = mine.map((t) => receipts.get(t.hash));
      const receipt = answers.find((r): r is TransactionReceipt => r !== null && r !== 'unknown');
      if (receipt) {
        // Included again elsewhere: the reorg moved it.
        const moved = intent.state === 'included';
        if (moved) reorged.push(intent.id);
        inclusions.push({ intent, receipt, moved });
        if (final(receipt.blockNumber)) deep.push({ ...intent, block_number: receipt.blockNumber, receipt_status: receipt.status });
        continue;
      }
      // A receipt we could not read might be there: decide nothing until every answer is known.
      if (answers.includes('unknown')) continue;
      if (intent.state === 'included') {
        await reorgedOut(client, intent, head);
        reorged.push(intent.id);
      } else {
        await nonceTaken(client, ctx, intent, head);
      }
    }
    await recordInclusions(client, ctx, inclusions);
    const confirmed = deep.filter((i) => i.receipt_status === 'success').map((i) => i.id);
    if (confirmed.length > 0) await client.query(`update relayer_intents set state = 'confirmed', error = null, updated_at = now() where id = any($1)`, [confirmed]);
    const failed: bigint[] = [];
    for (const intent of deep.filter((i) => i.receipt_status !== 'success')) {
      await client.query(`update relayer_intents set state = 'failed', error = $2, updated_at = now() where id = $1`, [
        intent.id,
        JSON.stringify(await revertReason(ctx, intent, intent.block_number!)),
      ]);
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
    return { count: rows.length, lastNonce: rows.at(-1)!.nonce };
  });
}

/** The hash of the canonical block at a height, or undefined when the node could not say (a failed read, or it is behind). */
async function canonicalHash(ctx: RelayerContext, blockNumber: bigint): Promise<Hex | undefined> {
  try {
    return (await ctx.chain.batchClient.getBlock({ blockNumber })).hash ?? undefined;
  } catch {
    return undefined;
  }
}

/** A transaction's receipt; null when the node says it has none; 'unknown' when the read failed. */
async function receiptOf(ctx: RelayerContext, hash: Hex): Promise<TransactionReceipt | null | 'unknown'> {
  try {
    return await ctx.chain.batchClient.getTransactionReceipt({ hash });
  } catch (error) {
    return (error as Error)?.name === 'TransactionReceiptNotFoundError' ? null : 'unknown';
  }
}

interface Inclusion {
  intent: Tracked;
  receipt: TransactionReceipt;
  /** It was included in another block before (a reorg moved it). */
  moved: boolean;
}

/** Records where each intent was mined (two statements for the batch); the winning hash is `mined`, the others `replaced`. */
async function recordInclusions(client: pg.PoolClient, ctx: RelayerContext, inclusions: Inclusion[]): Promise<void> {
  if (inclusions.length === 0) return;
  await client.query(
    `update relayer_intents i set state = 'included', transaction_hash = u.hash, block_number = u.block_number, block_hash = u.block_hash,
       receipt = u.receipt, events = u.events, reorgs = i.reorgs + u.moved, updated_at = now()
     from unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[], $6::jsonb[], $7::int[])
       as u(id, hash, block_number, block_hash, receipt, events, moved)
     where i.id = u.id`,
    [
      inclusions.map(({ intent }) => intent.id),
      inclusions.map(({ receipt }) => receipt.transactionHash),
      inclusions.map(({ receipt }) => receipt.blockNumber),
      inclusions.map(({ receipt }) => receipt.blockHash),
      inclusions.map(({ receipt }) => JSON.stringify(toJson(receipt))),
      inclusions.map(({ intent, receipt }) => JSON.stringify(decodeEvents(ctx, intent, receipt))),
      inclusions.map(({ moved }) => (moved ? 1 : 0)),
    ],
  );
  await client.query(
    `update relayer_transactions t set status = case when t.hash = u.hash then 'mined' else 'replaced' end
     from unnest($1::bigint[], $2::text[]) as u(intent_id, hash)
     where t.intent_id = u.intent_id`,
    [inclusions.map(({ intent }) => intent.id), inclusions.map(({ receipt }) => receipt.transactionHash)],
  );
}

/** The inclusion is gone: back to broadcast, and the same bytes go out again at once. */
async function reorgedOut(client: pg.PoolClient, intent: Tracked, head: bigint): Promise<void> {
  await client.query(
    `update relayer_intents set state = 'broadcast', transaction_hash = null, block_number = null, block_hash = null, receipt = null, events = null,
       reorgs = reorgs + 1, sent_at_block = $2, next_attempt_at = now(), updated_at = now() where id = $1`,
    [intent.id, head],
  );
  await client.query(`update relayer_transactions set status = 'sent' where intent_id = $1`, [intent.id]);
}

/**
 * The signer's nonce moved past this intent's and none of its transactions is
 * mined: another transaction (sent with the same key outside the relayer) took
 * the nonce. Once that has held for the finality depth (at least a block) (so it is not a
 * receipt the node has yet to show us), the intent goes back to pending and
 * gets a new nonce; it had no effect, so this cannot make it happen twice.
 */
async function nonceTaken(client: pg.PoolClient, ctx: RelayerContext, intent: Tracked, head: bigint): Promise<void> {
  if (intent.error?.name !== 'NonceTaken') {
    const error: IntentError = { name: 'NonceTaken', message: `nonce ${intent.nonce} was used by another transaction`, seenAtBlock: head.toString() };
    await client.query(`update relayer_intents set error = $2, updated_at = now() where id = $1`, [intent.id, JSON.stringify(error)]);
    return;
  }
  // At least one block: a receipt the node has yet to show us would appear by then.
  const depth = ctx.finalityDepth > 1n ? ctx.finalityDepth : 1n;
  if (head - BigInt(intent.error.seenAtBlock ?? head) < depth) return;
  ctx.logger.warn({ intent: intent.id.toString(), nonce: intent.nonce.toString() }, 'nonce taken by another transaction; signing the intent again with a new nonce');
  await client.query(`update relayer_transactions set status = 'replaced' where intent_id = $1`, [intent.id]);
  await client.query(
    `update relayer_intents set state = 'pending', nonce = null, sent_at_block = null, next_attempt_at = now(), updated_at = now() where id = $1`,
    [intent.id],
  );
  await client.query(
    `update relayer_signers set next_nonce = greatest(next_nonce, $3) where chain_id = $1 and address = $2`,
    [ctx.chain.chainId, ctx.signer, await ctx.chain.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'pending' })],
  );
}

/** Signs the same call at the same nonce with fees raised by at least the bump, within the ceiling. */
async function replace(client: pg.PoolClient, ctx: RelayerContext, intent: Tracked, last: SignedTransaction, head: bigint): Promise<void> {
  const previous: Fees =
    last.gas_price !== null
      ? { type: 'legacy', gasPrice: BigInt(last.gas_price) }
      : { type: 'eip1559', maxFeePerGas: BigInt(last.max_fee_per_gas!), maxPriorityFeePerGas: BigInt(last.max_priority_fee_per_gas!) };
  const fees = bumpFees(previous, await currentFees(ctx.chain.publicClient, ctx.fees), ctx.fees);
  if (!fees) {
    const error: IntentError = { name: 'FeeCeiling', message: `not included after ${head - intent.sent_at_block!} blocks, and a higher fee would cross the ceiling` };
    await client.query(`update relayer_intents set error = $2, updated_at = now() where id = $1`, [intent.id, JSON.stringify(error)]);
    return;
  }
  const raw = await ctx.account.signTransaction({
    chainId: ctx.chain.chainId,
    nonce: Number(intent.nonce),
    to: intent.to_address,
    data: intent.data,
    value: BigInt(intent.value),
    gas: BigInt(intent.gas_limit),
    ...feeFields(fees),
  } as TransactionSerializable);
  await storeTransactions(client, ctx, [{ id: intent.id, nonce: intent.nonce, raw, hash: keccak256(raw) }], fees);
  await client.query(`update relayer_intents set sent_at_block = $2, next_attempt_at = now(), updated_at = now() where id = $1`, [intent.id, head]);
  ctx.metrics.replaced();
  ctx.logger.info({ intent: intent.id.toString(), nonce: intent.nonce.toString(), head: head.toString(), sentAt: String(intent.sent_at_block) }, 'replacing a transaction stuck in the pool with higher fees');
}

/** The receipt's logs from the called contract, decoded exactly as the indexer decodes them. */
function decodeEvents(ctx: RelayerContext, intent: Tracked, receipt: TransactionReceipt): DecodedEvent[] {
  const decode = createDecoder(new Map([[intent.to_address, ctx.kinds.get(intent.kind)?.abi ?? []]]));
  const events: DecodedEvent[] = [];
  for (const log of receipt.logs) {
    const event = decode(
      { ...log, address: log.address.toLowerCase() as Hex, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, transactionHash: receipt.transactionHash },
      ctx.chain.chainId,
      0n,
    );
    if (event) events.push({ address: event.address, logIndex: event.logIndex, eventName: event.eventName, args: event.args });
  }
  return events;
}

/**
 * Why a mined transaction reverted: the same call replayed on the state at the end
 * of its block (its own revert changed nothing, and a transaction earlier in the
 * block, such as a competing one, is the usual cause), else on the state before.
 */
async function revertReason(ctx: RelayerContext, intent: Tracked, blockNumber: bigint): Promise<IntentError> {
  for (const at of [blockNumber, blockNumber - 1n]) {
    try {
      await ctx.chain.publicClient.call({ account: ctx.signer, to: intent.to_address, data: intent.data, value: BigInt(intent.value), blockNumber: at });
    } catch (error) {
      const revert = decodeRevert(error, ctx.kinds.get(intent.kind)?.abi ?? []);
      if (revert) return revert;
    }
  }
  return { name: 'Reverted', message: `reverted in block ${blockNumber}; replaying the call does not revert, so the reason is unknown` };
}

