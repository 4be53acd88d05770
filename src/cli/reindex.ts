import type pg from 'pg';
import { reindexProjection } from '../indexer/reindex.js';
import type { Projection } from '../indexer/types.js';
import type { Logger } from '../runtime/logger.js';
import { reportProgress } from '../indexer/progress.js';

/** `ledgersync reindex`: which chain, progress while replaying, and how long it took. */
export async function reindex(pool: pg.Pool, projection: Projection, chainIdOption: string | undefined, logger: Logger) {
  const { rows } = await pool.query<{ chain_id: bigint }>('select chain_id from indexer_checkpoints order by chain_id');
  const chains = rows.map((r) => Number(r.chain_id));
  const chainId = chainIdOption !== undefined ? Number(chainIdOption) : chains[0];
  if (chainId === undefined || !chains.includes(chainId)) {
    throw new Error(chainIdOption ? `chain ${chainIdOption} has not been indexed in this database` : 'nothing has been indexed in this database yet');
  }
  if (chainIdOption === undefined && chains.length > 1) throw new Error(`several chains are indexed (${chains.join(', ')}); choose one with --chain-id`);

  const started = Date.now();
  let progress: ReturnType<typeof reportProgress> | undefined;
  let previous = 0;
  const result = await reindexProjection(pool, chainId, projection, {
    onProgress: ({ events, total }) => {
      progress ??= reportProgress(logger, { label: `reindex ${projection.name}`, total, unit: 'events' });
      progress.update(events, events - previous);
      previous = events;
    },
  });
  progress?.stop();
  return { chainId, events: result.events, seconds: (Date.now() - started) / 1000 };
}
