import type pg from 'pg';
import type { ChainKey } from '../chain.js';
import type { Projection } from './types.js';
import { announceProjectionChanges } from './store.js';
import { quoteIdent } from './copy.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * Forgets everything indexed from a chain: its checkpoint, blocks, raw events,
 * journal, children and sources' progress, and the rows its projections hold for
 * it, in one transaction. For a network that is new at every start (the embedded
 * Sui simulator keeps its ledger in memory): what was indexed from the previous
 * one describes a chain that no longer exists. Returns whether there was anything.
 */
export async function forgetChain(pool: pg.Pool, chain: ChainKey, projections: Projection[]): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rowCount } = await client.query('delete from indexer_checkpoints where chain = $1', [chain]);
    for (const table of ['indexer_events', 'indexer_blocks', 'indexer_journal', 'indexer_children', 'indexer_sources']) {
      await client.query(`delete from ${table} where chain = $1`, [chain]);
    }
    for (const table of new Set(projections.flatMap((p) => p.tables))) {
      await client.query(`delete from ${quoteIdent(table)} where chain = $1`, [chain]);
    }
    await announceProjectionChanges(client, chain, projections.map((p) => p.name));
    return (rowCount ?? 0) > 0;
  });
}
