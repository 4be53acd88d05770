import type pg from 'pg';
import type { Abi, Address } from 'viem';
import type { ChainKey } from '../../../core/chain.js';
import type { IntentKind } from '../../../core/relayer/types.js';
import type { Logger } from '../../../runtime/logger.js';
import type { ChainConnection } from '../client.js';
import type { FeePolicy } from './fees.js';
import type { RelayerSigner } from './signer.js';

/** What the EVM lifecycle of one signer works with. */
export interface EvmRelayerContext {
  chain: ChainKey;
  conn: ChainConnection;
  pool: pg.Pool;
  account: RelayerSigner;
  /** The account's address, lower case (as stored). */
  signer: Address;
  kinds: Map<string, IntentKind>;
  fees: FeePolicy;
  logger: Logger;
}

/** What an EVM intent kind calls: the ABI and, unless intents name their target, the contract's name in the deployments file. */
export interface EvmIntentSpec {
  abi: Abi;
  contract?: string;
}

export function abiOf(ctx: EvmRelayerContext, kind: string): Abi {
  return (ctx.kinds.get(kind)?.spec as EvmIntentSpec | undefined)?.abi ?? [];
}
