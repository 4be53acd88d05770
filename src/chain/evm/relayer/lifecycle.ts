import type { Address, Hex } from 'viem';
import type { TransactionLifecycle } from '../../../core/relayer/lifecycle.js';
import type { EvmRelayerContext } from './context.js';
import { bumpFees, currentFees, feesFromJson } from './fees.js';
import { fillNonceGaps, resyncNonce } from './nonces.js';
import { explainFailure, observe } from './observe.js';
import { sendRaw } from './send.js';
import { signCall, takeNonces } from './sign.js';
import { simulate } from './simulate.js';

/**
 * The EVM transaction lifecycle of one signer: simulate and size with
 * eth_estimateGas, take consecutive nonces under the signer's row lock and sign,
 * send the stored bytes, observe receipts and blocks, replace a stuck transaction
 * at the same nonce with raised fees (EIP-1559 or a legacy gas price), and fill
 * holes in the signer's nonces.
 */
export function evmLifecycle(ctx: EvmRelayerContext): TransactionLifecycle {
  return {
    signer: ctx.signer,
    head: () => ctx.conn.publicClient.getBlockNumber({ cacheTime: 0 }),
    start: async () => {
      const next = await resyncNonce(ctx);
      ctx.logger.info({ nextNonce: next.toString() }, 'signer nonce in step with the chain');
    },
    // Nonces are numbers, never short: as many as there are intents.
    capacity: async () => Number.POSITIVE_INFINITY,
    prepare: (intents) => simulate(ctx, intents),
    async sign(client, ready) {
      const fees = await currentFees(ctx.conn.publicClient, ctx.fees);
      const first = await takeNonces(client, ctx, ready.length);
      return Promise.all(
        ready.map(({ intent, feeLimit }, i) =>
          signCall(ctx, { intentId: intent.id, nonce: first + BigInt(i), to: intent.target as Address, data: intent.payload as Hex, value: BigInt(intent.value), gas: feeLimit }, fees),
        ),
      );
    },
    send: (transactions) => sendRaw(ctx, transactions),
    observe: (intents) => observe(ctx, intents),
    explainFailure: (intent, blockNumber) => explainFailure(ctx, intent, blockNumber),
    async replace(intent, head) {
      // The core never asks for a user-signed one (only its sender can sign another); said here too.
      if (intent.sender !== null) return { waiting: { name: 'NotIncludedYet', message: `signed by the user ${intent.sender}: its fees cannot be raised` } };
      const last = intent.transactions.at(-1)!;
      const fees = bumpFees(feesFromJson(last.fees), await currentFees(ctx.conn.publicClient, ctx.fees), ctx.fees);
      if (!fees) return { waiting: { name: 'FeeCeiling', message: `not included after ${head - intent.sentAtBlock!} blocks, and a higher fee would cross the ceiling` } };
      const call = { intentId: intent.id, nonce: intent.sequence, to: intent.target as Address, data: intent.payload as Hex, value: BigInt(intent.value), gas: BigInt(intent.feeLimit) };
      return { replacement: await signCall(ctx, call, fees) };
    },
    resync: async (client) => void (await resyncNonce(ctx, client)),
    maintain: async () => void (await fillNonceGaps(ctx)),
  };
}
