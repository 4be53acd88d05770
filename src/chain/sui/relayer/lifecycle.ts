import type pg from 'pg';
import type { TransactionLifecycle } from '../../../core/relayer/lifecycle.js';
import type { ChainKey } from '../../../core/chain.js';
import type { Logger } from '../../../runtime/logger.js';
import type { SuiConnection } from '../client.js';
import type { SuiRelayerContext } from './context.js';
import { freeGasCoins } from './objects.js';
import { explainFailure, observe } from './observe.js';
import { keepPool, reconcile } from './pool.js';
import { prepare } from './prepare.js';
import { latestCheckpoint } from './reads.js';
import { send } from './send.js';
import { sign } from './sign.js';
import { suiKeypair } from './signer.js';

/**
 * The Sui transaction lifecycle of one signer. What EVM does with nonces, Sui does
 * with owned objects: every transaction consumes its gas coins (and any coin or
 * object it spends) at one version, so two transactions in flight on one coin would
 * equivocate and lock it for the epoch. Here each signed transaction holds its own
 * coins from the signer's pool (table sui_owned_objects) from the commit that
 * stores its bytes until the chain's effects give them back, and the pool is
 * split into `gas.poolSize` coins so that many transactions fly at once.
 *
 *   prepare   dry run (SimulateTransaction) with the signer's coins: a Move abort, a budget or balance too small fail now
 *   sign      coins taken under the caller's transaction; gas payment, reference gas price and budget in the bytes; digest first
 *   send      ExecuteTransaction of the stored bytes; "already executed" is success; effects free the coins
 *   observe   included once in a checkpoint (checkpoints are final: depth 0); a transaction whose coin was spent by another
 *             and that the chain never saw is Sui's taken sequence: signed again with another coin
 *   replace   none: the gas price is the epoch's reference price, there is nothing to outbid; lost sends are covered
 *             by sending the same bytes again
 *   maintain  reconcile held coins with the chain, merge dust, split coins to fill the pool
 */
export function suiLifecycle(ctx: SuiRelayerContext): TransactionLifecycle {
  return {
    signer: ctx.signer,
    head: () => latestCheckpoint(ctx),
    async start() {
      await keepPool(ctx, { wait: true });
      ctx.logger.info({ freeGasCoins: await freeGasCoins(ctx.pool, ctx) }, 'signer gas coins in step with the chain');
    },
    capacity: () => freeGasCoins(ctx.pool, ctx),
    prepare: (intents) => prepare(ctx, intents),
    sign: (client, ready) => sign(client, ctx, ready),
    send: (transactions) => send(ctx, transactions),
    observe: (intents) => observe(ctx, intents),
    explainFailure: (intent) => explainFailure(ctx, intent),
    replace: async (intent, head) => ({
      waiting: {
        name: 'NotExecutedYet',
        message: `not executed after ${head - intent.sentAtBlock!} checkpoints; Sui has no fee replacement (the gas price is the epoch's): the same bytes are sent again until they execute, or until their coin is spent by another transaction and the intent is signed again`,
      },
    }),
    // After an intent was found to have lost its coin: free what its dead transaction held.
    resync: (client: pg.PoolClient) => reconcile(ctx, client),
    maintain: () => keepPool(ctx, { wait: false }),
  };
}

/** The lifecycle of the signer with this key (`suiprivkey1…`) on a connected Sui chain. */
export function suiSignerLifecycle(options: { chain: ChainKey; conn: SuiConnection; pool: pg.Pool; privateKey: string; gas: SuiRelayerContext['gas']; logger: Logger }): TransactionLifecycle {
  const keypair = suiKeypair(options.privateKey);
  return suiLifecycle({ chain: options.chain, client: options.conn.client, pool: options.pool, keypair, signer: keypair.toSuiAddress(), gas: options.gas, logger: options.logger });
}
