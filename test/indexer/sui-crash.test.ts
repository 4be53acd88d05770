import { describe, expect, it, onTestFinished } from 'vitest';
import { connectDatabase } from '../../src/db/client.js';
import { createEmptyDatabase, createTestDatabase } from '../harness/db.js';
import { RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { until } from '../harness/until.js';
import { suiTestMigrations } from '../app-sui/index.js';
import { addWallets, checkpointOf, expectedIndex, indexSui, storedIndex, suiCliEnv, suiWorld, tables, SUI_CLI } from '../app-sui/world.js';

const KILLS = 20;

/**
 * The Sui indexer in a child process, killed with SIGKILL at random moments of
 * its backfill and of live streaming (while every checkpoint subscription drops
 * after a few messages), restarted each time: the end state equals a fresh
 * index of the same network, table for table, and the simulator's truth.
 */
describe('Sui indexer killed at random moments', () => {
  it(`ends equal to a fresh index after ${KILLS} SIGKILLs, the subscription dropping all along`, async () => {
    const { sim, ledger, packageId, wallets } = await suiWorld();
    const traffic = { packages: [packageId], addresses: wallets, transactionsPerCheckpoint: 1 };
    // Enough for the first ten lives (each gets a few hundred checkpoints done after starting up) and more.
    ledger.emitCheckpoints(10_000, { ...traffic, relevantEvery: 3 });
    // Streams end after three checkpoints, as an error or a cut connection: the indexer must fill what they miss.
    sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 3 } } });

    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const { pool, close } = connectDatabase(database.url, { max: 2 });
    onTestFinished(close);
    const cwd = scratchDir();
    // Small commits: more of the indexer's life is spent inside one.
    const env = suiCliEnv(database.url, sim.url, packageId, { SUI_BATCH_CHECKPOINTS: '100' });
    expect((await runCli(['migrate'], { cwd, env, script: SUI_CLI })).stderr).toBe('');
    await addWallets(pool, wallets);

    const killedIn = { backfill: 0, live: 0 };
    for (let i = 0; i < KILLS; i++) {
      // The second half while the simulator makes a checkpoint every 100 ms.
      if (i === KILLS / 2) {
        ledger.startAutoCheckpoints(100, { ...traffic, relevantEvery: 1 });
        sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 3, dropAs: 'reset' } } });
      }
      const before = await checkpointOf(pool);
      const indexer = new RunningCli(['indexer'], { cwd, env, script: SUI_CLI });
      const progressed = async () => {
        if (indexer.child.exitCode !== null) throw new Error(`the indexer exited: ${indexer.output}`);
        const now = await checkpointOf(pool);
        return now !== undefined && now !== before && (i < KILLS / 2 || now >= BigInt(ledger.height) - 3n);
      };
      // Killed once this life has committed (and, live, caught up), at a random moment after.
      await until(progressed, `life ${i} to index`, 60_000);
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      const checkpoint = (await checkpointOf(pool))!;
      const head = ledger.height;
      await indexer.kill();
      if (checkpoint >= BigInt(head) - 3n) killedIn.live++;
      else killedIn.backfill++;
    }
    ledger.stopAutoCheckpoints();

    const last = new RunningCli(['indexer'], { cwd, env, script: SUI_CLI });
    await until(async () => (await checkpointOf(pool)) === BigInt(ledger.height), `the indexer to reach ${ledger.height}: ${last.output}`, 60_000);
    expect(await last.stop('SIGTERM')).toBe(0);
    expect(killedIn.backfill).toBeGreaterThanOrEqual(5);
    expect(killedIn.live).toBeGreaterThanOrEqual(5);
    expect(sim.stats().injected.drop).toBeGreaterThanOrEqual(5);

    // The same network indexed once, without a crash, in this process.
    const fresh = await createTestDatabase(suiTestMigrations);
    onTestFinished(() => fresh.drop());
    await addWallets(fresh.pool, wallets);
    const once = await indexSui(sim.url, fresh.pool, packageId);
    await once.indexer.waitForBlock(BigInt(ledger.height), 120_000);
    await once.stop();

    const crashed = await tables(pool);
    expect(crashed.indexer_events!.length).toBeGreaterThan(15_000);
    expect(crashed).toEqual(await tables(fresh.pool));
    const all = { from: 0, to: ledger.height };
    expect(await storedIndex(pool)).toEqual(expectedIndex(ledger, packageId, all, [{ ...all, addresses: wallets }]));
  }, 300_000);
});
