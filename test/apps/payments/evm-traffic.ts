/**
 * What the payments end-to-end tests do on anvil: users' wallets (keys of their own, as on
 * their devices), money minted to them and sent to them by outsiders, transfers between them,
 * Pay payments to merchants and P2P escrows, each sent by its wallet as a device would.
 */
import { keccak256, toHex, type Address, type Hex } from 'viem';
import type { PaymentsWorld } from '../../harness/payments-world.js';
import { cusdAbi } from '../../../src/apps/payments/contracts.js';
import { CUSD_CONTRACT } from '../../../src/apps/payments/settings.js';

export type Wallet = Awaited<ReturnType<PaymentsWorld['wallet']>>;

/** One cUSD in base units (6 decimals). */
export const CUSD = 1_000_000n;

/**
 * Mints `amount` to each address as the platform (the minter), nonces given out
 * here so that the mints go out together instead of one per block.
 */
export async function mintAll(world: PaymentsWorld, platform: Wallet, to: Address[], amount: bigint): Promise<void> {
  let nonce = await world.publicClient.getTransactionCount({ address: platform.address, blockTag: 'pending' });
  const hashes: Hex[] = [];
  for (const address of to) {
    hashes.push(await platform.client.writeContract({ address: world.contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'mint', args: [address, amount], nonce: nonce++ }));
  }
  for (const hash of hashes) {
    const receipt = await world.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`mint ${hash} reverted`);
  }
}

/** A reference for Pay or a trade id for P2PTrade: 32 bytes from a name. */
export const ref32 = (name: string): Hex => keccak256(toHex(name));

/** A random integer in [low, high) from `random` (a seeded generator). */
export const between = (random: () => number, low: number, high: number) => Math.floor(low + random() * (high - low));
