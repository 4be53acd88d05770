import type pg from 'pg';
import type { ChainKey } from '../chain.js';
import type { Logger } from '../../runtime/logger.js';
import type { TransactionLifecycle } from './lifecycle.js';
import type { IntentKind, IntentPorts } from './types.js';
import type { RelayerMetrics } from './metrics.js';

/** How long a user's signed bytes may be refused by the node before their intent fails, unless configured (`RELAYER_REFUSED_SIGNED_MS`). */
export const DEFAULT_REFUSED_SIGNED_MS = 120_000;

/** What every relayer step works with: one chain, one signer, its family's lifecycle. */
export interface RelayerContext {
  chain: ChainKey;
  pool: pg.Pool;
  lifecycle: TransactionLifecycle;
  /** The signer's address, as stored. */
  signer: string;
  kinds: Map<string, IntentKind>;
  /** Blocks on top of an inclusion before it is final (`confirmed`): the chain's one definition (core/finality.ts). */
  finalityDepth: bigint;
  /** Intents handled per step and transaction. */
  batchSize: number;
  /** Blocks without inclusion after which a transaction is replaced with higher fees. */
  stuckBlocks: number;
  /** How often a sent but not yet included transaction is sent again (a node may have dropped it). */
  rebroadcastMs: number;
  /** How long the node may refuse a transaction a user signed, every time it is sent, before its intent fails. */
  refusedSignedMs: number;
  logger: Logger;
  metrics: RelayerMetrics;
  /** What app handlers get besides their transaction. */
  ports: IntentPorts;
}
