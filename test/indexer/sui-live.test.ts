import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';
import { suiTestMigrations } from '../app-sui/index.js';
import { addWallets, checkpointOf, expectedIndex, indexSui, storedIndex, suiWorld } from '../app-sui/world.js';

/**
 * The Sui indexer in this process, live on the simulator: the subscription
 * wakes it at each checkpoint, and when the stream drops the checkpoints it
 * missed are read with ListCheckpoints, so a drop leaves no gap.
 */
describe('Sui indexer, live', () => {
  it('leaves no gap when the checkpoint subscription keeps dropping', async () => {
    const { sim, ledger, packageId, wallets } = await suiWorld();
    const database = await createTestDatabase(suiTestMigrations);
    await addWallets(database.pool, wallets);
    ledger.emitCheckpoints(200, { packages: [packageId], addresses: wallets, relevantEvery: 3 });
    // Every stream ends after two checkpoints, as an error (then, half way, as a cut connection).
    sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 2 } } });
    const live = await indexSui(sim.url, database.pool, packageId);
    await live.indexer.waitForBlock(BigInt(ledger.height));
    const listed = sim.stats().calls.ListCheckpoints!;
    for (let i = 0; i < 40; i++) {
      if (i === 20) sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 2, dropAs: 'reset' } } });
      ledger.emitCheckpoints(1 + (i % 3), { packages: [packageId], addresses: wallets, relevantEvery: 1 });
      await new Promise((r) => setTimeout(r, 60));
    }
    await until(async () => (await checkpointOf(database.pool)) === BigInt(ledger.height), 'the indexer to reach the tip', 30_000);
    await live.stop();

    const expected = expectedIndex(ledger, packageId, { from: 0, to: ledger.height }, [{ from: 0, to: ledger.height, addresses: wallets }]);
    expect(expected.payments.length).toBeGreaterThan(20);
    expect(expected.balances.length).toBeGreaterThan(2);
    expect(await storedIndex(database.pool)).toEqual(expected);
    expect(sim.stats().calls.SubscribeCheckpoints).toBeGreaterThanOrEqual(5);
    expect(sim.stats().injected.drop).toBeGreaterThanOrEqual(5);
    // The checkpoints a dropped stream missed were read with ListCheckpoints.
    expect(sim.stats().calls.ListCheckpoints).toBeGreaterThan(listed);
  }, 60_000);
});
