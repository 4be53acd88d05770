import { describe, expect, it } from 'vitest';
import { reindexProjection } from '../../src/core/indexer/reindex.js';
import { createTestDatabase } from '../harness/db.js';
import { runCli, scratchDir } from '../harness/cli.js';
import { paymentsProjection, suiTestMigrations, transactionsProjection } from '../app-sui/index.js';
import { addWallets, expectedIndex, indexSui, storedIndex, suiCliEnv, suiWorld, SUI_CHAIN, SUI_CLI } from '../app-sui/world.js';

const totalCalls = (calls: Record<string, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0);

/** Sui projections rebuilt from the stored raw events: the node is not asked for anything. */
describe('reindex of Sui projections', () => {
  it('rebuilds every projection from stored events with zero gRPC calls, in the engine and through the CLI', async () => {
    const { sim, ledger, packageId, wallets } = await suiWorld();
    ledger.emitCheckpoints(3_000, { packages: [packageId], addresses: wallets, relevantEvery: 2, failureRate: 0.2 });
    const database = await createTestDatabase(suiTestMigrations);
    await addWallets(database.pool, wallets);
    const live = await indexSui(sim.url, database.pool, packageId);
    await live.indexer.waitForBlock(BigInt(ledger.height));
    await live.stop();
    const all = { from: 0, to: ledger.height };
    const expected = expectedIndex(ledger, packageId, all, [{ ...all, addresses: wallets }]);
    expect(await storedIndex(database.pool)).toEqual(expected);

    // Damage every projection; reindexing must put each back exactly.
    await database.pool.query("update sui_transactions set sources = '{}', success = not success");
    await database.pool.query('delete from sui_payments where event_index % 2 = 0');
    await database.pool.query('update sui_balances set balance = 0, changes = 99');
    const served = totalCalls(sim.stats().calls);
    const metered = live.chain.conn.meter.totalCalls();
    for (const projection of [transactionsProjection, paymentsProjection]) await reindexProjection(database.pool, SUI_CHAIN, projection);
    expect(totalCalls(sim.stats().calls)).toBe(served);
    expect(live.chain.conn.meter.totalCalls()).toBe(metered);

    // The CLI, configured with the simulator's URL: it never calls it.
    const cli = await runCli(['reindex', 'sui_balances'], { cwd: scratchDir(), script: SUI_CLI, env: suiCliEnv(database.url, sim.url, packageId) });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(new RegExp(`^sui_balances: replayed ${expected.items.filter((i) => i.name === 'BalanceChange' && i.source === 'wallets').length} events of chain ${SUI_CHAIN} in \\d+\\.\\d s\\n$`));
    expect(cli.code).toBe(0);
    expect(totalCalls(sim.stats().calls)).toBe(served);
    expect(await storedIndex(database.pool)).toEqual(expected);
  }, 90_000);
});
