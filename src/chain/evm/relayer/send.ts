import type { EvmRelayerContext } from './context.js';

/**
 * Sends stored bytes, as one JSON-RPC batch: per transaction undefined when the
 * node has it (now or already), else the first line of why not.
 */
export async function sendRaw(ctx: EvmRelayerContext, transactions: Array<{ raw: Uint8Array }>): Promise<Array<string | undefined>> {
  const outcomes = await Promise.allSettled(
    transactions.map((t) => ctx.conn.batchClient.request({ method: 'eth_sendRawTransaction', params: [`0x${Buffer.from(t.raw).toString('hex')}`] })),
  );
  return outcomes.map((outcome) => (outcome.status === 'fulfilled' || isHarmless(outcome.reason) ? undefined : (outcome.reason as Error).message.split('\n')[0]!));
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
