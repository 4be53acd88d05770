import { RpcError } from 'viem';
import type { SendFailure } from '../../../core/relayer/lifecycle.js';
import type { EvmRelayerContext } from './context.js';

/**
 * Sends stored bytes, as one JSON-RPC batch: per transaction undefined when the
 * node has it (now or already), else the first line of why not.
 */
export async function sendRaw(ctx: EvmRelayerContext, transactions: Array<{ raw: Uint8Array }>): Promise<Array<SendFailure | undefined>> {
  const outcomes = await Promise.allSettled(
    transactions.map((t) => ctx.conn.batchClient.request({ method: 'eth_sendRawTransaction', params: [`0x${Buffer.from(t.raw).toString('hex')}`] })),
  );
  return outcomes.map((outcome) =>
    outcome.status === 'fulfilled' || isHarmless(outcome.reason) ? undefined : { message: why(outcome.reason), refused: isRefusal(outcome.reason) },
  );
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

/**
 * viem's summary with the node's own words in a JSON-RPC error ("Transaction creation failed:
 * insufficient funds for gas * price + value"); an HTTP error's body is not kept (a provider
 * may echo the request there).
 */
function why(error: unknown): string {
  if (error instanceof RpcError && error.details && error.details !== error.shortMessage) return `${error.shortMessage.replace(/\.$/, '')}: ${error.details.split('\n')[0]}`;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

// JSON-RPC codes of a node failing in itself, not judging the transaction: internal error,
// resource unavailable, limit exceeded.
const NODE_FAILURES = new Set([-32603, -32002, -32005]);

/**
 * The node answered with a JSON-RPC error about the transaction ("insufficient funds
 * for gas * price + value", "max fee per gas less than block base fee"). A timeout or
 * an HTTP error is viem's HttpRequestError or our RpcTimeoutError, not an RpcError.
 */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof RpcError) || NODE_FAILURES.has(error.code)) return false;
  return !/internal error|timed? ?out|rate limit|too many requests|unavailable|overloaded/i.test(error.details ?? error.shortMessage);
}
