import type { PendingIntent, Prepared } from '../../../core/relayer/lifecycle.js';
import type { IntentError } from '../../../core/relayer/types.js';
import { namedObjects, parseCall, spending } from './call.js';
import type { ObjectRef, SuiRelayerContext } from './context.js';
import { buildCall, type CallInputs } from './build.js';
import { classifyRefusal, executionError } from './errors.js';
import { coinsCovering, coinTypeOf, knownObject, remember, SUI_TYPE } from './objects.js';
import { getObjects, referenceGasPrice, rpcMessage } from './reads.js';

/** The budget = what the dry run used × 1.2: costs are exact for the state they ran on, and the state moves. */
const BUDGET_HEADROOM_PERCENT = 120n;
/** Sui's smallest budget: a fixed number of computation units at the transaction's price. */
const MIN_BUDGET_UNITS = 1_000n;

/**
 * Dry-runs each call (SimulateTransaction) as it would be signed: the signer's
 * coins as gas and funds, at the reference gas price, within the configured
 * budget. A Move abort, a budget too small, coins the signer does not have, or a
 * transaction the node refuses fail the intent now, spending nothing; an RPC
 * failure or an object that moved meanwhile is tried again. The budget it signs
 * with is what the dry run used, with headroom, within the configured budget.
 */
export async function prepare(ctx: SuiRelayerContext, intents: PendingIntent[]): Promise<Prepared[]> {
  let price: bigint;
  try {
    price = await referenceGasPrice(ctx);
  } catch (error) {
    return intents.map((intent) => ({ intent, outcome: 'retry', error: { name: 'RpcError', message: rpcMessage(error) } }));
  }
  return Promise.all(intents.map((intent) => prepareOne(ctx, intent, price)));
}

async function prepareOne(ctx: SuiRelayerContext, intent: PendingIntent, price: bigint): Promise<Prepared> {
  const call = parseCall(intent.payload);
  const budget = ctx.gas.budget;
  const spent = spending(call);
  const inputs: CallInputs = { gas: [], funds: new Map(), objects: new Map() };

  const gasNeed = budget + (spent.get(SUI_TYPE) ?? 0n);
  const gas = await coinsCovering(ctx.pool, ctx, SUI_TYPE, gasNeed);
  if (gas.held < gasNeed) return reverted(intent, insufficient(ctx, SUI_TYPE, gas.held, gasNeed, spent.get(SUI_TYPE) ?? 0n));
  if (total(gas.coins) < gasNeed) return retry(intent, { name: 'GasCoinsScattered', message: `the signer's SUI is spread over too many small coins to cover ${gasNeed} MIST in one transaction; they are being merged` });
  inputs.gas = gas.coins;
  for (const [coinType, amount] of spent) {
    if (coinType === SUI_TYPE) continue;
    const funds = await coinsCovering(ctx.pool, ctx, coinType, amount);
    if (funds.held < amount) return reverted(intent, insufficient(ctx, coinType, funds.held, amount, amount));
    if (total(funds.coins) < amount) return retry(intent, { name: 'CoinsScattered', message: `the signer's ${coinType} is spread over too many small coins to cover ${amount}` });
    inputs.funds.set(coinType, funds.coins);
  }
  for (const objectId of namedObjects(call)) {
    const object = (await knownObject(ctx.pool, ctx, objectId)) ?? (await learnObject(ctx, objectId));
    if (object === 'unknown') return retry(intent, { name: 'RpcError', message: `could not read object ${objectId}` });
    if (!object) return reverted(intent, { name: 'ObjectNotOwned', message: `object ${objectId} does not exist or is not owned by the signer ${ctx.signer}`, args: [objectId] });
    inputs.objects.set(objectId, object);
  }

  let effects;
  try {
    const bytes = await buildCall(ctx, call, intent.target, inputs, price, budget);
    const { response } = await ctx.client.transactionExecutionService.simulateTransaction({ transaction: { bcs: { value: bytes } }, readMask: { paths: ['transaction.effects'] } });
    effects = response.transaction?.effects;
  } catch (error) {
    const refusal = classifyRefusal(error);
    return refusal.permanent ? reverted(intent, refusal.error) : retry(intent, refusal.error);
  }
  if (!effects?.status) return retry(intent, { name: 'RpcError', message: 'the dry run answered without effects' });
  if (!effects.status.success) return reverted(intent, executionError(effects.status.error, budget));
  const used = ((effects.gasUsed?.computationCost ?? 0n) + (effects.gasUsed?.storageCost ?? 0n)) * BUDGET_HEADROOM_PERCENT / 100n;
  const feeLimit = used < MIN_BUDGET_UNITS * price ? MIN_BUDGET_UNITS * price : used > budget ? budget : used;
  return { intent, outcome: 'ready', feeLimit };
}

/** An object an intent names that the relayer has not met yet: recorded if the signer owns it. */
async function learnObject(ctx: SuiRelayerContext, objectId: string): Promise<ObjectRef | undefined | 'unknown'> {
  const state = (await getObjects(ctx, [objectId])).get(objectId);
  if (state === 'unknown' || state === undefined) return 'unknown';
  if (state === null || state.owner !== ctx.signer) return undefined;
  await remember(ctx.pool, ctx, { ...state, coinType: coinTypeOf(state.objectType) });
  return state;
}

function insufficient(ctx: SuiRelayerContext, coinType: string, held: bigint, need: bigint, spends: bigint): IntentError {
  const what = coinType === SUI_TYPE ? `its gas budget (${ctx.gas.budget} MIST)${spends > 0n ? ` plus the ${spends} MIST it sends` : ''}` : `${spends}`;
  return { name: 'InsufficientBalance', message: `the signer ${ctx.signer} holds ${held} of ${coinType}; the transaction needs ${what}: ${need}`, args: [coinType, held.toString(), need.toString()] };
}

const total = (coins: Array<{ balance: bigint }>) => coins.reduce((sum, c) => sum + c.balance, 0n);
const reverted = (intent: PendingIntent, error: IntentError): Prepared => ({ intent, outcome: 'reverted', error });
const retry = (intent: PendingIntent, error: IntentError): Prepared => ({ intent, outcome: 'retry', error });
