import { numberToHex } from 'viem';
import type { PendingIntent, Prepared } from '../../../core/relayer/lifecycle.js';
import { abiOf, type EvmRelayerContext } from './context.js';
import { decodeRevert } from './revert.js';

/** Gas limit = estimate × 1.2: estimates are exact for the state they ran on, and the state moves. */
const GAS_HEADROOM_PERCENT = 120n;

/**
 * eth_estimateGas runs each call as eth_call does and reports a revert the same
 * way: one round trip both simulates and sizes it. Sent together, as one
 * JSON-RPC batch, against the latest block: nodes default to "pending", which
 * some (anvil) build by executing their whole pool first, thousands of our own
 * transactions under load. Simulation sees the chain, not intents still in flight.
 */
export async function simulate(ctx: EvmRelayerContext, intents: PendingIntent[]): Promise<Prepared[]> {
  const estimates = await Promise.allSettled(
    intents.map((intent) =>
      ctx.conn.batchClient.request({
        method: 'eth_estimateGas',
        params: [{ from: ctx.signer, to: intent.target as `0x${string}`, data: intent.payload as `0x${string}`, value: numberToHex(BigInt(intent.value)) }, 'latest'],
      }),
    ),
  );
  return intents.map((intent, i): Prepared => {
    const outcome = estimates[i]!;
    if (outcome.status === 'fulfilled') return { intent, outcome: 'ready', feeLimit: (BigInt(outcome.value) * GAS_HEADROOM_PERCENT) / 100n };
    const revert = decodeRevert(outcome.reason, abiOf(ctx, intent.kind));
    if (revert) return { intent, outcome: 'reverted', error: revert };
    return { intent, outcome: 'retry', error: { name: 'RpcError', message: (outcome.reason as Error).message.split('\n')[0]! } };
  });
}
