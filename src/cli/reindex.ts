import type pg from 'pg';
import { reindexProjection } from '../core/indexer/reindex.js';
import type { Projection } from '../core/indexer/types.js';
import type { Logger } from '../runtime/logger.js';
import { reportProgress } from '../core/indexer/progress.js';

/** `ledgersync reindex`: which chain, progress while replaying, and how long it took. */
export async function reindex(pool: pg.Pool, projection: Projection, chainOption: string | undefined, logger: Logger) {
  const { rows } = await pool.query<{ chain: string }>('select chain from indexer_checkpoints order by chain');
  const chains = rows.map((r) => r.chain);
  // A bare chain id (137) means the EVM chain (evm:137).
  const wanted = chainOption !== undefined && /^\d+$/.test(chainOption) ? `evm:${chainOption}` : chainOption;
  const chain = wanted ?? chains[0];
  if (chain === undefined || !chains.includes(chain)) {
    throw new Error(chainOption ? `chain ${chainOption} has not been indexed in this database` : 'nothing has been indexed in this database yet');
  }
  if (chainOption === undefined && chains.length > 1) throw new Error(`several chains are indexed (${chains.join(', ')}); choose one with --chain`);

  const started = Date.now();
  let progress: ReturnType<typeof reportProgress> | undefined;
  let previous = 0;
  const result = await reindexProjection(pool, chain, projection, {
    onProgress: ({ events, total }) => {
      progress ??= reportProgress(logger, { label: `reindex ${projection.name}`, total, unit: 'events' });
      progress.update(events, events - previous);
      previous = events;
    },
  });
  progress?.stop();
  return { chain, events: result.events, seconds: (Date.now() - started) / 1000 };
}
