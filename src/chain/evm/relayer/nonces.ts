import type pg from 'pg';
import { storeTransactions } from '../../../core/relayer/intents.js';
import { inTransaction } from '../../../db/transaction.js';
import type { EvmRelayerContext } from './context.js';
import { currentFees } from './fees.js';
import { signCall } from './sign.js';

/**
 * Makes the stored next nonce at least the chain's pending count: a fresh signer
 * starts where the chain is, and nonces used with the same key outside the
 * relayer are skipped rather than collided with.
 */
export async function resyncNonce(ctx: EvmRelayerContext, db: pg.Pool | pg.PoolClient = ctx.pool): Promise<bigint> {
  const pending = await ctx.conn.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'pending' });
  const { rows } = await db.query<{ next_nonce: bigint }>(
    `insert into evm_nonces (chain, signer, next_nonce) values ($1, $2, $3)
     on conflict (chain, signer) do update set next_nonce = greatest(evm_nonces.next_nonce, excluded.next_nonce)
     returning next_nonce`,
    [ctx.chain, ctx.signer, pending],
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
export async function fillNonceGaps(ctx: EvmRelayerContext): Promise<number> {
  const onChain = BigInt(await ctx.conn.publicClient.getTransactionCount({ address: ctx.signer, blockTag: 'latest' }));
  const filled = await inTransaction(ctx.pool, async (client) => {
    // Lock the signer's row first, then look for holes in a second statement: under READ COMMITTED that
    // one sees every nonce handed out before the lock was ours (a single statement would keep the older snapshot).
    const { rows: signer } = await client.query<{ next_nonce: bigint }>('select next_nonce from evm_nonces where chain = $1 and signer = $2 for update', [ctx.chain, ctx.signer]);
    if (!signer[0]) return 0;
    const { rows } = await client.query<{ nonce: bigint }>(
      `select n as nonce from generate_series($3::bigint, $4::bigint - 1) as n
       where not exists (select 1 from relayer_transactions t
                         where t.chain = $1 and t.signer = $2 and t.sequence = n and t.status <> 'replaced')`,
      [ctx.chain, ctx.signer, onChain, signer[0].next_nonce],
    );
    if (rows.length === 0) return 0;
    const fees = await currentFees(ctx.conn.publicClient, ctx.fees);
    const fillers = await Promise.all(rows.map(({ nonce }) => signCall(ctx, { intentId: null, nonce, to: ctx.signer, value: 0n, gas: 21_000n }, fees)));
    await storeTransactions(client, ctx.chain, ctx.signer, fillers);
    ctx.logger.warn({ nonces: fillers.map((f) => String(f.sequence)) }, 'filled gaps in the signer nonces with no-op self-transfers');
    return fillers.length;
  });
  // Send fillers (new ones and any still waiting) after their rows are committed.
  const { rows: waiting } = await ctx.pool.query<{ raw: Buffer }>(
    `select raw from relayer_transactions where chain = $1 and signer = $2 and intent_id is null and sequence >= $3 and status <> 'replaced' order by sequence`,
    [ctx.chain, ctx.signer, onChain],
  );
  await Promise.allSettled(waiting.map((w) => ctx.conn.batchClient.request({ method: 'eth_sendRawTransaction', params: [`0x${w.raw.toString('hex')}`] })));
  return filled;
}
