import type pg from 'pg';
import type { Address } from 'viem';
import type { ChainConnection } from '../chain/evm/client.js';
import type { Logger } from '../runtime/logger.js';
import type { FeePolicy } from './fees.js';
import type { RelayerSigner } from './signer.js';
import type { IntentKind } from './types.js';
import type { RelayerMetrics } from './metrics.js';

/** What every relayer step works with: one chain, one signer. */
export interface RelayerContext {
  chain: ChainConnection;
  pool: pg.Pool;
  account: RelayerSigner;
  /** The account's address, lower case (as stored). */
  signer: Address;
  kinds: Map<string, IntentKind>;
  /** Blocks on top of an inclusion before it is final (`confirmed`): the chain's one definition (src/chain/finality.ts). */
  finalityDepth: bigint;
  fees: FeePolicy;
  /** Intents handled per step and transaction. */
  batchSize: number;
  /** Blocks without inclusion after which a transaction is replaced with higher fees. */
  stuckBlocks: number;
  /** How often a sent but not yet included transaction is sent again (a node may have dropped it). */
  rebroadcastMs: number;
  logger: Logger;
  metrics: RelayerMetrics;
}

/** Backoff for transient failures (RPC errors): 1 s, 2 s, 4 s … up to a minute. */
export function backoffSeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.min(attempts, 6));
}
