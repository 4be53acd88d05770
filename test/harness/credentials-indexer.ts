import type pg from 'pg';
import { onTestFinished } from 'vitest';
import { startIndexer } from '../../src/core/indexer/indexer.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createTestDatabase } from './db.js';
import { connectTestChain, type TestChainOptions } from './evm.js';
import type { EvmChain } from '../../src/chain/evm/chain.js';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** The credentials app's tables, for databases the credentials app is indexed into. */
export const credentialsMigrations = [{ name: 'credentials', migrations: 'src/apps/credentials/migrations' }];

/**
 * An in-process indexer of the credentials app into a fresh database, or into
 * `database` (an indexer restarted on what an earlier one left; not dropped here).
 */
/** The credentials app's indexer on a connected chain, into `pool` (a standby if another holds the chain). */
export function indexCredentials(evm: EvmChain, pool: pg.Pool, pollIntervalMs = 100) {
  const app = credentialsApp({ chain: evm.key });
  return startIndexer(evm, pool, app.sources!, app.projections!, { pollIntervalMs }, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
}

export async function runIndexer(rpcUrl: string, options: TestChainOptions & { database?: TestDatabase }) {
  const database = options.database ?? (await createTestDatabase(credentialsMigrations));
  const evm = await connectTestChain(rpcUrl, options);
  const indexer = await indexCredentials(evm, database.pool, options.pollIntervalMs);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= indexer.stop().then(() => (options.database ? undefined : database.drop())));
  // Also when the test fails or times out before its own cleanup runs.
  onTestFinished(close);
  return { database, chain: evm.conn, evm, indexer, close };
}

/** Everything the indexer wrote (raw events up to `upTo`), in a stable order, for comparing two databases. */
export async function snapshot(pool: pg.Pool, upTo: bigint) {
  const query = async (sql: string) => (await pool.query(sql, [upTo.toString()])).rows;
  return {
    events: await query(
      'select block_number, block_hash, event_index, transaction_id, source, name, args from indexer_events where block_number <= $1 order by block_number, event_index',
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
