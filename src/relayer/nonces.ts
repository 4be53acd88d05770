import { keccak256, type TransactionSerializable } from 'viem';

import type { RelayerContext } from './context.js';
import { currentFees } from './fees.js';
import { feeFields, storeTransactions } from './prepare.js';
import { inTransaction } from '../db/transaction.js';

/**
 * Makes the stored next nonce at least the chain's pending count: a fresh signer
 * starts where the chain is, and nonces used with the same key outside the
 * relayer are skipped rather than collided with.
 */
export async function resyncNonce(ctx: RelayerContext): Promise<bigint> {
  const pending = await ctx.chain.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'pending' });
  const { rows } = await ctx.pool.query<{ next_nonce: bigint }>(
    `insert into relayer_signers (chain_id, address, next_nonce) values ($1, $2, $3)
     on conflict (chain_id, address) do update set next_nonce = greatest(relayer_signers.next_nonce, excluded.next_nonce)
     returning next_nonce`,
    [ctx.chain.chainId, ctx.signer, pending],
  );
  return rows[0]!.next_nonce;
}

/**
 * Fills holes in the signer's nonces: a nonce between the chain's count and our
 * next nonce that no live transaction of ours holds (a stored row lost, or a
 * resync past transactions that were then dropped) blocks every later one, so it
 * gets a no-op: a zero-value transfer to the signer itself. Fillers still
 * unmined are sent again. Returns how many nonces were filled.
 */
export async function fillNonceGaps(ctx: RelayerContext): Promise<number> {
  const onChain = BigInt(await ctx.chain.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'latest' }));
  const filled = await inTransaction(ctx.pool, async (client) => {
    // Lock the signer's row first, then look for holes in a second statement: under READ COMMITTED that
    // one sees every nonce handed out before the lock was ours (a single statement would keep the older snapshot).
    const { rows: signer } = await client.query<{ next_nonce: bigint }>(
      'select next_nonce from relayer_signers where chain_id = $1 and address = $2 for update',
      [ctx.chain.chainId, ctx.signer],
    );
    if (!signer[0]) return [];
    const { rows } = await client.query<{ nonce: bigint }>(
      `select n as nonce from generate_series($3::bigint, $4::bigint - 1) as n
       where not exists (select 1 from relayer_transactions t
                         where t.chain_id = $1 and t.signer = $2 and t.nonce = n and t.status <> 'replaced')`,
      [ctx.chain.chainId, ctx.signer, onChain, signer[0].next_nonce],
    );
    if (rows.length === 0) return [];
    const fees = await currentFees(ctx.chain.publicClient, ctx.fees);
    const fillers = await Promise.all(
      rows.map(async ({ nonce }) => {
        const raw = await ctx.account.signTransaction({
          chainId: ctx.chain.chainId,
          nonce: Number(nonce),
          to: ctx.signer,
          value: 0n,
          gas: 21_000n,
          ...feeFields(fees),
        } as TransactionSerializable);
        return { id: null, nonce, raw, hash: keccak256(raw) };
      }),
    );
    await storeTransactions(client, ctx, fillers, fees);
    ctx.logger.warn({ nonces: fillers.map((f) => f.nonce.toString()) }, 'filled gaps in the signer nonces with no-op self-transfers');
    return fillers;
  });
  // Send fillers (new ones and any still waiting) after their rows are committed.
  const { rows: waiting } = await ctx.pool.query<{ raw: string }>(
    `select raw from relayer_transactions where chain_id = $1 and signer = $2 and intent_id is null and nonce >= $3 and status <> 'replaced' order by nonce`,
    [ctx.chain.chainId, ctx.signer, onChain],
  );
  await Promise.allSettled(waiting.map((w) => ctx.chain.batchClient.request({ method: 'eth_sendRawTransaction', params: [w.raw as `0x${string}`] })));
  return filled.length;
}
