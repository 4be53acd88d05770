import type pg from 'pg';
import { keccak256, type Hex, type TransactionReceipt, type TransactionSerializable } from 'viem';
import { createDecoder, toJson } from '../indexer/decode.js';
import { inTransaction } from '../indexer/store.js';
import type { RelayerContext } from './context.js';
import { bumpFees, currentFees, type Fees } from './fees.js';
import { feeFields, storeTransactions } from './prepare.js';
import { decodeRevert } from './revert.js';
import { runHandlers } from './settle.js';
import type { DecodedEvent, IntentError } from './types.js';

interface Tracked {
  id: bigint;
  kind: string;
  state: 'broadcast' | 'included';
  nonce: bigint;
  to_address: Hex;
  data: Hex;
  value: string;
  gas_limit: string;
  confirmations: number;
  sent_at_block: bigint | null;
  block_hash: Hex | null;
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
 * once `confirmations` blocks stand on it; included → broadcast again when a reorg
 * removes it. A transaction waiting longer than `stuckBlocks` is replaced with
 * higher fees; a nonce taken by someone else sends the intent back to pending.
 */
export async function trackIntents(ctx: RelayerContext, head: bigint): Promise<number> {
  return inTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<Tracked>(
      `select id, kind, state, nonce, to_address, data, value::text, gas_limit::text, confirmations, sent_at_block, block_hash, error
       from relayer_intents
       where chain_id = $1 and signer = $2 and state in ('broadcast', 'included')
       order by nonce limit $3
       for update skip locked`,
      [ctx.chain.chainId, ctx.signer, ctx.batchSize],
    );
    if (rows.length === 0) return 0;
    const { rows: txs } = await client.query<SignedTransaction>(
      `select intent_id, hash, max_fee_per_gas::text, max_priority_fee_per_gas::text, gas_price::text
       from relayer_transactions where intent_id = any($1) order by created_at, hash`,
      [rows.map((r) => r.id)],
    );
    const receipts = new Map<Hex, TransactionReceipt | null>();
    const fetched = await Promise.all(txs.map((t) => ctx.chain.batchClient.getTransactionReceipt({ hash: t.hash }).catch(notFound)));
    txs.forEach((t, i) => receipts.set(t.hash, fetched[i]!));

    let chainNonce: bigint | undefined;
    const settled = { confirmed: [] as bigint[], failed: [] as bigint[], reorged: [] as bigint[] };
    for (const intent of rows) {
      const mine = txs.filter((t) => t.intent_id === intent.id);
      const receipt = mine.map((t) => receipts.get(t.hash)).find((r): r is TransactionReceipt => !!r);
      if (receipt) {
        const outcome = await onReceipt(client, ctx, intent, receipt, head);
        if (outcome) settled[outcome].push(intent.id);
        continue;
      }
      if (intent.state === 'included') {
        await reorgedOut(client, intent, head);
        settled.reorged.push(intent.id);
        continue;
      }
      chainNonce ??= BigInt(await ctx.chain.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'latest' }));
      if (chainNonce > intent.nonce) await nonceTaken(client, ctx, intent, head);
      else if (intent.sent_at_block !== null && head - intent.sent_at_block >= BigInt(ctx.stuckBlocks)) await replace(client, ctx, intent, mine.at(-1)!, head);
    }
    await runHandlers(client, ctx, settled.confirmed, 'onConfirmed');
    await runHandlers(client, ctx, settled.failed, 'onFailed');
    await runHandlers(client, ctx, settled.reorged, 'onReorged');
    return rows.length;
  });
}

/** Records inclusion (or a new block after a reorg), and settles the intent once deep enough. */
async function onReceipt(
  client: pg.PoolClient,
  ctx: RelayerContext,
  intent: Tracked,
  receipt: TransactionReceipt,
  head: bigint,
): Promise<'confirmed' | 'failed' | 'reorged' | undefined> {
  const moved = intent.state === 'included' && intent.block_hash !== receipt.blockHash;
  if (intent.state === 'broadcast' || moved) {
    await client.query(
      `update relayer_intents set state = 'included', transaction_hash = $2, block_number = $3, block_hash = $4, receipt = $5, events = $6,
         reorgs = reorgs + $7, updated_at = now() where id = $1`,
      [intent.id, receipt.transactionHash, receipt.blockNumber, receipt.blockHash, JSON.stringify(toJson(receipt)), JSON.stringify(decodeEvents(ctx, intent, receipt)), moved ? 1 : 0],
    );
    await client.query(`update relayer_transactions set status = case when hash = $2 then 'mined' else 'replaced' end where intent_id = $1`, [
      intent.id,
      receipt.transactionHash,
    ]);
  }
  if (head - receipt.blockNumber + 1n < BigInt(intent.confirmations)) return moved ? 'reorged' : undefined;
  if (receipt.status === 'success') {
    await client.query(`update relayer_intents set state = 'confirmed', error = null, updated_at = now() where id = $1`, [intent.id]);
    return 'confirmed';
  }
  await client.query(`update relayer_intents set state = 'failed', error = $2, updated_at = now() where id = $1`, [
    intent.id,
    JSON.stringify(await revertReason(ctx, intent, receipt)),
  ]);
  return 'failed';
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
 * the nonce. Once that has held for `confirmations` blocks (so it is not a
 * receipt the node has yet to show us), the intent goes back to pending and
 * gets a new nonce; it had no effect, so this cannot make it happen twice.
 */
async function nonceTaken(client: pg.PoolClient, ctx: RelayerContext, intent: Tracked, head: bigint): Promise<void> {
  if (intent.error?.name !== 'NonceTaken') {
    const error: IntentError = { name: 'NonceTaken', message: `nonce ${intent.nonce} was used by another transaction`, seenAtBlock: head.toString() };
    await client.query(`update relayer_intents set error = $2, updated_at = now() where id = $1`, [intent.id, JSON.stringify(error)]);
    return;
  }
  if (head - BigInt(intent.error.seenAtBlock ?? head) < BigInt(intent.confirmations)) return;
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

/** Why a mined transaction reverted: the same call replayed on the state before its block. */
async function revertReason(ctx: RelayerContext, intent: Tracked, receipt: TransactionReceipt): Promise<IntentError> {
  try {
    await ctx.chain.publicClient.call({ account: ctx.signer, to: intent.to_address, data: intent.data, value: BigInt(intent.value), blockNumber: receipt.blockNumber - 1n });
  } catch (error) {
    const revert = decodeRevert(error, ctx.kinds.get(intent.kind)?.abi ?? []);
    if (revert) return revert;
  }
  return { name: 'Reverted', message: `reverted in block ${receipt.blockNumber}` };
}

function notFound(error: unknown): null {
  if ((error as Error)?.name === 'TransactionReceiptNotFoundError') return null;
  throw error;
}
