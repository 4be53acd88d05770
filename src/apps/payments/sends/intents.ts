import type pg from 'pg';
import { evmIntent, suiIntent, type ChainKey, type IntentError, type IntentKind, type SettledIntent } from '../../../engine/index.js';
import { cusdAbi } from '../contracts.js';
import { CUSD_CONTRACT, type PaymentsSettings } from '../settings.js';
import { settleSend } from './store.js';

/**
 * The intent kind of cUSD transfers on a chain, one per chain (a kind names its
 * chain): EVM `CUSD.transfer(to, amount)`, Sui a transfer of the cUSD coin type;
 * both take `transfer` with `[to, amount]`.
 */
export const transferIntentName = (chain: ChainKey) => `payments.transfer.${chain}`;

/** The transfer kinds of every chain the app runs on; their outcomes settle the send. */
export function sendIntents(settings: PaymentsSettings): IntentKind[] {
  const handlers = { onConfirmed: settleConfirmed, onFailed: settleFailed };
  return settings.chains.map((c) =>
    c.family === 'evm'
      ? evmIntent({ name: transferIntentName(c.chain), chain: c.chain, abi: cusdAbi, contract: CUSD_CONTRACT, ...handlers })
      : suiIntent({ name: transferIntentName(c.chain), chain: c.chain, coinType: c.cusdType, ...handlers }),
  );
}

async function settleConfirmed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  await settleSend(client, intent.id, { state: 'confirmed', transactionId: intent.transactionId, error: null });
}

async function settleFailed(intent: SettledIntent, client: pg.PoolClient): Promise<void> {
  await settleSend(client, intent.id, { state: 'failed', transactionId: intent.transactionId, error: describe(intent.error) });
}

/** The reason as the send keeps it: the revert's name (e.g. EnforcedPause) and message. */
function describe(error: IntentError | null): string {
  if (!error) return 'failed without a reason given';
  return error.message && error.message !== error.name ? `${error.name}: ${error.message}` : error.name;
}
