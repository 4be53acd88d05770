import { describe, expect, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { join } from 'node:path';
import { parseEventLogs } from 'viem';
import { testLedgerAbi } from '../../contracts/artifacts/TestLedger.js';
import { freshLedgerIndex as freshIndex, ledgerSnapshot as snapshot, ledgerWorld } from '../harness/ledger-world.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { createEmptyDatabase } from '../harness/db.js';
import { CLI_WITH_TS_CONFIG, RunningCli, scratchDir } from '../harness/cli.js';
import { connectDatabase } from '../../src/db/client.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { until } from '../harness/until.js';

/** The built CLI running the test app alone (a TypeScript config file, through tsx's loader). */
const script = CLI_WITH_TS_CONFIG;
const LEDGERSYNC_CONFIG = join(packageRoot, 'test', 'app', 'ledgersync.config.ts');

const KILLS = 22;

/**
 * An indexer in a child process, killed with SIGKILL at random moments of its
 * backfill and of realtime, restarted each time: the end state equals a fresh
 * index, with no duplicate and no missing event.
 */
describe('indexer killed at random moments', () => {
  it(`ends equal to the canonical chain after ${KILLS} SIGKILLs`, async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 150; i++) {
      if (i % 10 === 9) await world.createChild();
      else await world.writeMany(`b-${i}`, 5);
    }
    // A slow node stretches the backfill over several lives of the indexer.
    const node = await startRpcProxy(world.rpcUrl, { latencyMs: 25 });
    onTestFinished(() => node.close());
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const { pool, close } = connectDatabase(database.url, { max: 2 });
    onTestFinished(close);

    const env = {
      DATABASE_URL: database.url,
      RPC_URL: node.url,
      DEPLOYMENTS_FILE: world.deploymentsFile,
      FINALITY_DEPTH: '16',
      INDEXER_MAX_BLOCK_RANGE: '5',
      INDEXER_CONCURRENCY: '2',
      INDEXER_POLL_INTERVAL_MS: '100',
      LEDGERSYNC_CONFIG,
      LOG_LEVEL: 'warn',
    };
    const cwd = scratchDir();

    // Realtime history: new blocks keep coming while the indexer is killed and restarted.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await world.writeMany(`rt-${Date.now()}`, 2);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    const killedIn = { backfill: 0, realtime: 0 };
    for (let i = 0; i < KILLS; i++) {
      const indexer = new RunningCli(['indexer'], { cwd, env, script });
      // The first half at random moments of a life (the backfill, mostly); the second half once it
      // follows the head, so that realtime is killed too however slow the machine is.
      if (i >= KILLS / 2) {
        await until(async () => ((await checkpointOf(pool)) ?? -1n) >= (await world.publicClient.getBlockNumber()) - 16n, 'realtime', 30_000).catch(() => {});
        await new Promise((r) => setTimeout(r, Math.random() * 1000));
      } else {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
      }
      const [checkpoint, head] = await Promise.all([checkpointOf(pool), world.publicClient.getBlockNumber()]);
      await indexer.kill();
      if (checkpoint !== undefined && checkpoint >= head - 16n) killedIn.realtime++;
      else killedIn.backfill++;
    }
    producing = false;
    await producer;

    const head = await world.publicClient.getBlockNumber();
    const last = new RunningCli(['indexer'], { cwd, env, script });
    const deadline = Date.now() + 60_000;
    while ((await checkpointOf(pool)) !== head) {
      if (Date.now() > deadline) throw new Error(`indexer did not catch up: ${last.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await last.stop('SIGTERM')).toBe(0);

    expect(killedIn.backfill).toBeGreaterThanOrEqual(3);
    expect(killedIn.realtime).toBeGreaterThanOrEqual(3);
    const state = await snapshot(pool, head);
    expect(state).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, head));
    // Exactly the chain's logs: none missing, none twice.
    const emitters = [world.ledger, world.factory, ...state.children.map((c) => c.address as `0x${string}`)];
    const onChain = await world.publicClient.getLogs({ address: emitters, fromBlock: 0n, toBlock: head });
    expect(state.events).toHaveLength(onChain.length);
    const keys = new Set(state.events.map((e) => `${e.block_hash}:${e.event_index}`));
    expect(keys.size).toBe(onChain.length);
    const written = parseEventLogs({ abi: testLedgerAbi, logs: onChain, eventName: 'Written' });
    expect(written.length).toBeGreaterThan(600);
    expect(state.entries.reduce((sum, e) => sum + Number(e.writes), 0)).toBe(written.length);
    expect(state.children).toHaveLength(15);
  }, 240_000);
});

const ROUNDS = 20;
const FINALITY = 8;

/**
 * Downtime: the indexer (a child process, behind a node whose head answers lag
 * up to 10 blocks at random) is killed; while it is down the chain reorganises
 * (1 to FINALITY − 1 blocks, reaching into what it had indexed) and moves past
 * finality; it is started again. After every round of that, the projections
 * equal a fresh index of the canonical chain.
 */
describe('indexer down while the chain reorganises', () => {
  it(`ends equal to the canonical chain after ${ROUNDS} rounds of kill, reorg and restart behind a lagging node`, async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 20; i++) await world.writeMany(`b-${i}`, 2);
    const node = await startRpcProxy(world.rpcUrl, { headLag: 10 });
    onTestFinished(() => node.close());
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const { pool, close } = connectDatabase(database.url, { max: 2 });
    onTestFinished(close);
    const env = {
      DATABASE_URL: database.url,
      RPC_URL: node.url,
      DEPLOYMENTS_FILE: world.deploymentsFile,
      FINALITY_DEPTH: String(FINALITY),
      INDEXER_POLL_INTERVAL_MS: '100',
      LEDGERSYNC_CONFIG,
      LOG_LEVEL: 'warn',
    };
    const cwd = scratchDir();

    let reorgedIndexedBlocks = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const indexer = new RunningCli(['indexer'], { cwd, env, script });
      // Let it catch up with the head (as far as the lagging node lets it), and a little more.
      const head = await world.publicClient.getBlockNumber();
      await until(async () => ((await checkpointOf(pool)) ?? -1n) >= head - 2n, `round ${round}: the indexer to catch up`, 30_000);
      await new Promise((r) => setTimeout(r, Math.random() * 500));
      const checkpoint = (await checkpointOf(pool))!;
      await indexer.kill();

      const depth = 1 + Math.floor(Math.random() * (FINALITY - 1));
      const top = await world.publicClient.getBlockNumber();
      if (checkpoint > top - BigInt(depth)) reorgedIndexedBlocks++;
      await world.reorg(depth);
      await world.write(`after-round-${round}`, BigInt(round));
      await world.mine(FINALITY + Math.floor(Math.random() * 4));
    }

    const last = new RunningCli(['indexer'], { cwd, env, script });
    const head = await world.publicClient.getBlockNumber();
    await until(async () => (await checkpointOf(pool)) === head, `the indexer to reach ${head}`, 60_000);
    expect(await last.stop('SIGTERM')).toBe(0);

    // The reorgs reached into indexed blocks, and nothing was ever taken for a reorg deeper than finality.
    expect(reorgedIndexedBlocks).toBeGreaterThanOrEqual(ROUNDS / 2);
    const { rows } = await pool.query('select halted_reason from indexer_checkpoints');
    expect(rows[0].halted_reason).toBeNull();
    expect(await snapshot(pool, head)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, head));
  }, 300_000);
});

/** The checkpoint, or undefined before the first indexer life got as far as creating it. */
async function checkpointOf(pool: pg.Pool): Promise<bigint | undefined> {
  try {
    const { rows } = await pool.query<{ block_number: string }>('select block_number::text from indexer_checkpoints');
    return rows[0] ? BigInt(rows[0].block_number) : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return undefined; // not migrated yet
    throw error;
  }
}
