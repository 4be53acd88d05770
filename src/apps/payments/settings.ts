import type { ChainKey } from '../../engine/index.js';
import type { PushProvider } from './notifications/index.js';

/** The tokens the app keeps balances of; cUSD everywhere (6 decimals, as `cusd.move` and CUSD.sol). */
export const CUSD = { symbol: 'cUSD', decimals: 6 } as const;

/** Names in the deployments file of the EVM contracts (contracts/CUSD.sol, Pay.sol, P2PTrade.sol). */
export const CUSD_CONTRACT = 'CUSD';
export const PAY_CONTRACT = 'Pay';
export const P2P_CONTRACT = 'P2PTrade';

/** An EVM chain the app runs on: its contracts are deployed there by `ledgersync deploy` (or on start, embedded). */
export interface EvmPaymentsChain {
  family: 'evm';
  chain: ChainKey;
}

/** A Sui chain the app runs on: Confío's published packages there. */
export interface SuiPaymentsChain {
  family: 'sui';
  chain: ChainKey;
  packages: { cusd: string; pay: string; p2pTrade: string };
  /** The coin type of cUSD (`<cusd package>::cusd::CUSD`). */
  cusdType: string;
  startCheckpoint: bigint;
}

export type PaymentsChain = EvmPaymentsChain | SuiPaymentsChain;

/** What the payments app's parts are configured with (index.ts fills the defaults). */
export interface PaymentsSettings {
  chains: PaymentsChain[];
  /** The signer role (or address) that administers the EVM contracts, mints cUSD and sponsors Sui gas; default `default`. */
  platformSigner: string;
  /** Pay's fee in basis points on EVM chains (deployment); Sui's is the package's (0.9%). */
  payFeeBps: number;
  /** Where notifications go: FCM, signed webhooks (none: recorded, never delivered). */
  pushProviders: PushProvider[];
  /** Seed 004: stale balances are refreshed on this schedule (crontab), all reconciled on the other; null: not scheduled. */
  refreshCron: string | null;
  reconcileCron: string | null;
}

/** The address set (table address_sets) of a chain's active accounts: what its sources follow. */
export const addressSetName = (chain: ChainKey) => `payments:${chain}`;

export function chainOf(settings: Pick<PaymentsSettings, 'chains'>, chain: ChainKey): PaymentsChain {
  const found = settings.chains.find((c) => c.chain === chain);
  if (!found) throw new Error(`the payments app does not run on chain ${chain} (it runs on ${settings.chains.map((c) => c.chain).join(', ')})`);
  return found;
}
