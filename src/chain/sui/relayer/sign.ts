import type pg from 'pg';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import type { PendingIntent, SignedTransaction } from '../../../core/relayer/lifecycle.js';
import { namedObjects, parseCall, spending } from './call.js';
import type { SuiRelayerContext } from './context.js';
import { buildCall, type CallInputs } from './build.js';
import { seal } from './envelope.js';
import { lockFor, SUI_TYPE, takeCoins, takeObject, type Use } from './objects.js';
import { referenceGasPrice } from './reads.js';

/**
 * Signs each intent's transaction once, with coins and objects taken from the
 * signer's free ones under the caller's transaction (the one that stores the
 * bytes): no two transactions in flight ever share an object version, so none
 * can equivocate. Gas payment (object id, version, digest), the reference gas
 * price and the budget are all in the bytes; the digest is known before anything
 * is sent. Sui has no account sequence: an intent's sequence (the order the core
 * follows intents in) is its own id. An intent whose coins are all in flight is
 * left out and stays pending until some come back.
 */
export async function sign(client: pg.PoolClient, ctx: SuiRelayerContext, ready: Array<{ intent: PendingIntent; feeLimit: bigint }>): Promise<SignedTransaction[]> {
  const price = await referenceGasPrice(ctx);
  const signed: SignedTransaction[] = [];
  for (const { intent, feeLimit } of ready) {
    // Row locks taken for an intent that cannot be signed now are let go at once.
    await client.query('savepoint sui_sign');
    const transaction = await signOne(client, ctx, intent, feeLimit, price);
    await client.query(transaction ? 'release savepoint sui_sign' : 'rollback to savepoint sui_sign');
    if (transaction) signed.push(transaction);
  }
  return signed;
}

async function signOne(client: pg.PoolClient, ctx: SuiRelayerContext, intent: PendingIntent, budget: bigint, price: bigint): Promise<SignedTransaction | undefined> {
  const call = parseCall(intent.payload);
  const spent = spending(call);
  const uses: Array<{ objectId: string; as: Use }> = [];
  const inputs: CallInputs = { gas: [], funds: new Map(), objects: new Map() };

  const gas = await takeCoins(client, ctx, SUI_TYPE, budget + (spent.get(SUI_TYPE) ?? 0n));
  if (!gas) return undefined;
  inputs.gas = gas;
  uses.push(...gas.map((c) => ({ objectId: c.objectId, as: 'gas' as const })));
  for (const [coinType, amount] of spent) {
    if (coinType === SUI_TYPE) continue;
    const funds = await takeCoins(client, ctx, coinType, amount);
    if (!funds) return undefined;
    inputs.funds.set(coinType, funds);
    uses.push(...funds.map((c) => ({ objectId: c.objectId, as: 'funds' as const })));
  }
  for (const objectId of new Set(namedObjects(call))) {
    const object = await takeObject(client, ctx, objectId);
    if (!object) return undefined;
    inputs.objects.set(objectId, object);
    uses.push({ objectId, as: 'object' });
  }

  const bytes = await buildCall(ctx, call, intent.target, inputs, price, budget);
  const { signature } = await ctx.keypair.signTransaction(bytes);
  const digest = TransactionDataBuilder.getDigestFromBytes(bytes);
  await lockFor(client, ctx, digest, intent.id, uses);
  return { id: digest, intentId: intent.id, sequence: intent.id, raw: seal(bytes, [signature]), fees: { gasPrice: price.toString(), gasBudget: budget.toString() } };
}
