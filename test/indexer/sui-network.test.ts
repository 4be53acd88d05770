import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';
import { suiTestMigrations } from '../app-sui/index.js';
import { addWallets, checkpointOf, indexSui, suiWorld, SUI_CHAIN } from '../app-sui/world.js';

/**
 * Sui checkpoints are final when served: the indexer keeps no reorg journal and
 * never rolls back. A node that serves another checkpoint where one was indexed
 * serves another network: indexing halts, and what was indexed stays.
 */
describe('Sui indexer on another network than it indexed', () => {
  it('halts with the reason, rolls nothing back, and journals nothing', async () => {
    const first = await suiWorld({ seed: 7 });
    first.ledger.emitCheckpoints(300, { packages: [first.packageId], addresses: first.wallets, relevantEvery: 2 });
    const database = await createTestDatabase(suiTestMigrations);
    await addWallets(database.pool, first.wallets);
    const live = await indexSui(first.sim.url, database.pool, first.packageId);
    await live.indexer.waitForBlock(BigInt(first.ledger.height));
    await live.stop();
    const count = async (table: string) => (await database.pool.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
    const events = await count('indexer_events');
    const transactions = await count('sui_transactions');
    expect(events).toBeGreaterThan(300);
    // Every commit took the final path: nothing was journaled, and only the checkpoint's own header is kept.
    expect(await count('indexer_journal')).toBe(0);
    expect(await count('indexer_blocks')).toBe(1);

    // Same network name, another chain (a local network started again): taller, so no mere lag.
    const second = await suiWorld({ seed: 8 });
    second.ledger.emitCheckpoints(400, { packages: [first.packageId], addresses: first.wallets, relevantEvery: 2 });
    const checkpoint = await checkpointOf(database.pool);
    const again = await indexSui(second.sim.url, database.pool, first.packageId);
    const reason = await until(async () => (await database.pool.query<{ halted_reason: string | null }>('select halted_reason from indexer_checkpoints where chain = $1', [SUI_CHAIN])).rows[0]!.halted_reason, 'the indexer to halt');
    await again.stop();
    expect(reason).toMatch(new RegExp(`^chain ${SUI_CHAIN} serves \\w+ at block ${checkpoint} where \\w+ was indexed\\. .*: the node serves another network than the one indexed here .* Indexing stopped; nothing was rolled back$`));
    expect(await checkpointOf(database.pool)).toBe(checkpoint);
    expect([await count('indexer_events'), await count('sui_transactions')]).toEqual([events, transactions]);
  }, 60_000);
});
