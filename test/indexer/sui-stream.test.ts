import { describe, expect, it, onTestFinished } from 'vitest';
import { connectDatabase } from '../../src/db/client.js';
import { createEmptyDatabase } from '../harness/db.js';
import { RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { until } from '../harness/until.js';
import { addWallets, checkpointOf, expectedIndex, removeWallets, storedIndex, suiCliEnv, suiWorld, SUI_CLI } from '../app-sui/world.js';

const CHECKPOINTS = 100_000;

/**
 * `ledgersync indexer` (a child process) on the Sui simulator: a backfill of
 * 100,000 checkpoints, then live checkpoints as the simulator makes them, then
 * the address set changing while it streams. What it stores, raw events and
 * projections, equals what the simulator's ground truth says.
 *
 * Address sets: a member added (or removed) is followed (or not) from the first
 * checkpoint the indexer decodes after the change commits. An indexer that has
 * caught up with checkpoint n when the change commits follows the new set from
 * n + 1 on. Nothing is fetched again for the checkpoints already indexed: the
 * newcomer's earlier transactions are not in the index, and the leaver's are
 * kept up to n.
 */
describe('Sui indexer: backfill, live checkpoints, address set changes', () => {
  it(`stores exactly the truth of ${CHECKPOINTS.toLocaleString('en')} backfilled and then live checkpoints; set changes count from the next checkpoint`, async () => {
    const { sim, ledger, packageId, wallets } = await suiWorld({ wallets: 3 });
    const [alice, bob, carol] = wallets as [string, string, string];
    // Carol is busy on chain from the start, but followed only later; Bob is followed, then not.
    // Each checkpoint holds an unrelated transaction besides its prologue (one, to keep the simulator's work down).
    const traffic = { packages: [packageId], addresses: wallets, transactionsPerCheckpoint: 1 };
    ledger.emitCheckpoints(CHECKPOINTS, { ...traffic, relevantEvery: 10 });

    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const { pool, close } = connectDatabase(database.url, { max: 2 });
    onTestFinished(close);
    const cwd = scratchDir();
    const env = suiCliEnv(database.url, sim.url, packageId);
    const migrated = await runCli(['migrate'], { cwd, env, script: SUI_CLI });
    expect(migrated.stderr).toBe('');
    await addWallets(pool, [alice, bob]);

    const indexer = new RunningCli(['indexer'], { cwd, env, script: SUI_CLI });
    const caughtUp = (what: string, timeoutMs = 30_000) =>
      until(async () => {
        if (indexer.child.exitCode !== null) throw new Error(`the indexer exited: ${indexer.output}`);
        return (await checkpointOf(pool)) === BigInt(ledger.height);
      }, what, timeoutMs, 100);
    await caughtUp('the backfill', 200_000);

    // Live: a checkpoint every 50 ms, each with a relevant transaction.
    ledger.startAutoCheckpoints(50, { ...traffic, relevantEvery: 1 });
    const live = ledger.height;
    await until(async () => ((await checkpointOf(pool)) ?? 0n) >= BigInt(live + 60), 'live checkpoints', 30_000, 100);
    ledger.stopAutoCheckpoints();
    await caughtUp('the last live checkpoint');

    // Checkpoint n moves Carol's money while she is not followed yet.
    const only = (address: string) => ({ packages: [], addresses: [address], relevantEvery: 1 });
    const n = ledger.emitCheckpoints(1, only(carol)).to;
    await caughtUp('checkpoint n');
    await addWallets(pool, [carol]);
    await removeWallets(pool, [bob]);
    // n + 1 moves Carol's money, n + 2 Bob's, then everybody's.
    ledger.emitCheckpoints(1, only(carol));
    ledger.emitCheckpoints(1, only(bob));
    ledger.emitCheckpoints(30, { ...traffic, relevantEvery: 1 });
    await caughtUp('the checkpoints after the set changed');
    expect(await indexer.stop('SIGTERM')).toBe(0);

    // The boundaries are tested where they matter: each side of them has the address's transactions.
    const movesOf = (address: string, checkpoint: number) => ledger.truth({ addresses: [address], from: checkpoint, to: checkpoint }).transactions.length;
    for (const moves of [movesOf(carol, n), movesOf(carol, n + 1), movesOf(bob, n + 2)]) expect(moves).toBeGreaterThan(0);
    expect(ledger.truth({ addresses: [carol], from: 0, to: n }).transactions.length).toBeGreaterThan(1000);

    const expected = expectedIndex(ledger, packageId, { from: 0, to: ledger.height }, [
      { from: 0, to: n, addresses: [alice, bob] },
      { from: n + 1, to: ledger.height, addresses: [alice, carol] },
    ]);
    expect(expected.transactions.length).toBeGreaterThan(CHECKPOINTS / 20);
    expect(expected.transactions.some((t) => !t.success)).toBe(true);
    expect(expected.transactions.some((t) => t.sources.length === 2)).toBe(true);
    const stored = await storedIndex(pool);
    // Counts first: a difference in 50,000 rows is easier to read as a count.
    expect(stored.items.length).toBe(expected.items.length);
    expect(stored).toEqual(expected);
  }, 360_000);
});
