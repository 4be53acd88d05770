import type pg from 'pg';
import type { ChainKey, ChainReader } from '../chain.js';
import type { Logger } from '../../runtime/logger.js';
import type { Projection } from './types.js';
import type { IndexerMetrics } from './metrics.js';
import type { AddressSets } from './address-sets.js';

/** Everything the stages of one chain's indexer share. */
export interface ChainIndexer {
  chain: ChainKey;
  /** The chain family's reading side, for the sources being indexed. */
  reader: ChainReader;
  /** The address sets the sources follow, kept current. */
  addressSets: AddressSets;
  pool: pg.Pool;
  /** First block with anything to index (the earliest source's start). */
  startBlock: bigint;
  projections: Projection[];
  finalityDepth: bigint;
  logger: Logger;
  metrics: IndexerMetrics;
}
