import type { Hex } from 'viem';

import { backoffSeconds, type RelayerContext } from './context.js';
import { inTransaction } from '../db/transaction.js';

interface Sendable {
  id: bigint;
  attempts: number;
  hash: Hex;
  raw: Hex;
}

/**
 * signed → broadcast: sends each intent's latest signed bytes, and sends them
 * again every `rebroadcastMs` until one is mined (a node may drop a transaction
 * from its pool; the same bytes can never have a second effect).
 */
export async function sendIntents(ctx: RelayerContext, head: bigint): Promise<number> {
  return inTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<Sendable>(
      `select i.id, i.attempts, t.hash, t.raw
       from relayer_intents i
       cross join lateral (
         select hash, raw from relayer_transactions where intent_id = i.id order by created_at desc, hash limit 1
       ) t
       where i.chain_id = $1 and i.signer = $2 and i.next_attempt_at <= now()
         and (i.state = 'signed' or i.state = 'broadcast')
       order by i.nonce limit $3
       for update of i skip locked`,
      [ctx.chain.chainId, ctx.signer, ctx.batchSize],
    );
    if (rows.length === 0) return 0;
    const outcomes = await Promise.allSettled(rows.map((row) => ctx.chain.batchClient.request({ method: 'eth_sendRawTransaction', params: [row.raw] })));
    const sent: bigint[] = [];
    const failed: Array<{ row: Sendable; message: string }> = [];
    rows.forEach((row, i) => {
      const outcome = outcomes[i]!;
      if (outcome.status === 'fulfilled' || isHarmless(outcome.reason)) sent.push(row.id);
      else failed.push({ row, message: (outcome.reason as Error).message.split('\n')[0]! });
    });
    if (sent.length > 0) {
      await client.query(
        `update relayer_intents set state = 'broadcast', sent_at_block = coalesce(sent_at_block, $2),
           next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
         where id = any($1)`,
        [sent, head, ctx.rebroadcastMs / 1000],
      );
      await client.query("update relayer_transactions set status = 'sent' where intent_id = any($1) and status = 'signed'", [sent]);
    }
    for (const { row, message } of failed) {
      ctx.metrics.broadcastError();
      ctx.logger.warn({ intent: row.id.toString(), hash: row.hash, error: message }, 'broadcast failed; will send the same bytes again');
      await client.query(
        `update relayer_intents set attempts = attempts + 1, error = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now() where id = $1`,
        [row.id, JSON.stringify({ name: 'BroadcastError', message }), backoffSeconds(row.attempts)],
      );
    }
    return rows.length;
  });
}

/**
 * Answers that mean the node has (or had) these bytes or this nonce: nothing to
 * retry. "nonce too low" usually means one of the intent's transactions is mined;
 * tracking finds out which, or that another transaction took the nonce.
 */
function isHarmless(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error).toLowerCase();
  return /already known|known transaction|already imported|nonce too low|nonce has already been used|replacement transaction underpriced|transaction already exists/.test(message);
}
