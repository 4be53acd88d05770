import type pg from 'pg';
import { evmIntent, inTransaction, type ChainKey, type IntentKind, type Outbox } from '../../engine/index.js';
import { normalizeAddress } from './accounts.js';
import { cusdAbi } from './contracts.js';
import { chainOf, CUSD_CONTRACT, type PaymentsSettings } from './settings.js';

/**
 * The platform's own cUSD operations on an EVM chain: minting (money arriving
 * from outside: a deposit, a test faucet), signed by the platform signer, which
 * holds CUSD's MINTER_ROLE. On Sui minting needs Confío's TreasuryCap, which
 * this deployment does not hold.
 */
export const mintIntentName = (chain: ChainKey) => `payments.mint.${chain}`;

export function operatorIntents(settings: PaymentsSettings): IntentKind[] {
  return settings.chains.flatMap((c) => (c.family === 'evm' ? [evmIntent({ name: mintIntentName(c.chain), chain: c.chain, abi: cusdAbi, contract: CUSD_CONTRACT })] : []));
}

export class MintRefusedError extends Error {
  override name = 'MintRefusedError';
}

/** Queues a mint of `amount` base units to `to` through the outbox; the same key twice mints once. */
export async function mintCusd(
  ports: { pool: pg.Pool; outbox: Outbox; settings: PaymentsSettings },
  request: { chain: ChainKey; to: string; amount: bigint; idempotencyKey: string },
): Promise<{ intentId: bigint; created: boolean }> {
  const chain = chainOf(ports.settings, request.chain);
  if (chain.family !== 'evm') throw new MintRefusedError(`minting on ${request.chain} needs Confío's TreasuryCap, which this deployment does not hold`);
  if (request.amount <= 0n) throw new MintRefusedError('the amount must be above zero');
  const to = normalizeAddress(request.chain, request.to);
  const submitted = await inTransaction(ports.pool, (client) =>
    ports.outbox.submit(client, {
      idempotencyKey: `payments.mint:${request.idempotencyKey}`,
      kind: mintIntentName(request.chain),
      functionName: 'mint',
      args: [to, request.amount],
      signer: ports.settings.platformSigner,
    }),
  );
  return { intentId: submitted.id, created: submitted.created };
}
