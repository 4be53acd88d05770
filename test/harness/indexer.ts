import type pg from 'pg';
import { onTestFinished } from 'vitest';
import { connectChain } from '../../src/chain/evm/client.js';
import { startIndexer, type IndexerOptions } from '../../src/indexer/indexer.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createTestDatabase } from './db.js';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/**
 * An in-process indexer of the credentials app into a fresh database, or into
 * `database` (an indexer restarted on what an earlier one left; not dropped here).
 */
export async function runIndexer(rpcUrl: string, options: Partial<IndexerOptions> & { deploymentsFile: string; wsUrl?: string; database?: TestDatabase }) {
  const database = options.database ?? (await createTestDatabase());
  const chain = await connectChain(rpcUrl, options.wsUrl);
  const indexer = await startIndexer(
    chain,
    database.pool,
    [credentialsApp],
    { finalityDepth: 32, pollIntervalMs: 100, concurrency: 4, maxBlockRange: 10_000, ...options },
    createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= indexer.stop().then(() => (options.database ? undefined : database.drop())));
  // Also when the test fails or times out before its own cleanup runs.
  onTestFinished(close);
  return { database, chain, indexer, close };
}

/** Everything the indexer wrote (raw events up to `upTo`), in a stable order, for comparing two databases. */
export async function snapshot(pool: pg.Pool, upTo: bigint) {
  const query = async (sql: string) => (await pool.query(sql, [upTo.toString()])).rows;
  return {
    events: await query(
      'select block_number, block_hash, log_index, transaction_hash, event_name, args from indexer_events where block_number <= $1 order by block_number, log_index',
    ),
    institutions: await query('select address, name, metadata_uri, active, updated_block from institutions where $1::bigint is not null order by address'),
    credentials: await query(
      'select credential_id, institution, student, fingerprint, metadata_uri, issued_block, issued_transaction, revoked, revoked_transaction from credentials where $1::bigint is not null order by credential_id',
    ),
  };
}

/** A fresh index of the chain as it is now, up to `head`: what any other history must converge to. */
export async function freshIndex(rpcUrl: string, deploymentsFile: string, head: bigint) {
  const fresh = await runIndexer(rpcUrl, { deploymentsFile });
  try {
    await fresh.indexer.waitForBlock(head);
    return await snapshot(fresh.database.pool, head);
  } finally {
    await fresh.close();
  }
}
