import type pg from 'pg';
import type { Address, PublicClient } from 'viem';
import type { Logger } from '../runtime/logger.js';
import type { createDecoder } from './decode.js';
import type { Projection } from './types.js';
import type { IndexerMetrics } from './metrics.js';

/** Everything the stages of one chain's indexer share. */
export interface ChainIndexer {
  chainId: number;
  client: PublicClient;
  /** The same node, batching concurrent calls (for block headers). */
  batchClient: PublicClient;
  pool: pg.Pool;
  /** Lower-case addresses of every registered contract on this chain. */
  addresses: Address[];
  /** First block with anything to index (the earliest deployment). */
  startBlock: bigint;
  decode: ReturnType<typeof createDecoder>;
  projections: Projection[];
  finalityDepth: bigint;
  /** eth_getLogs requests in flight at once during backfill. */
  concurrency: number;
  maxBlockRange: bigint;
  logger: Logger;
  metrics: IndexerMetrics;
}
