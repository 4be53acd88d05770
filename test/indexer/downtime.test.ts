import { describe, expect, inject, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { join } from 'node:path';
import { createPublicClient, createTestClient, createWalletClient, encodeDeployData, encodeFunctionData, http, keccak256, toHex } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { testLedgerAbi as abi, testLedgerBytecode as bytecode } from '../../contracts/artifacts/TestLedger.js';
import { startAnvil } from '../../src/chain/evm/anvil.js';
import { recordDeployment } from '../../src/chain/evm/deployments.js';
import { freePort } from '../../src/runtime/ports.js';
import { LEDGER, ledgerMigrations } from '../app/index.js';
import { freshLedgerIndex as freshIndex, indexLedger, ledgerSnapshot as snapshot, ledgerWorld, runLedgerIndexer as runIndexer } from '../harness/ledger-world.js';
import { connectTestChain } from '../harness/evm.js';
import { createTestDatabase } from '../harness/db.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { scratchDir } from '../harness/cli.js';
import { until } from '../harness/until.js';
import { connectDatabase } from '../../src/db/client.js';

type Pool = pg.Pool;

/** The checkpoint (block -1 before the indexer has made one). */
async function checkpointOf(pool: Pool): Promise<{ block: bigint; halted: string | null }> {
  const { rows } = await pool.query<{ block_number: bigint; halted_reason: string | null }>('select block_number, halted_reason from indexer_checkpoints');
  return rows[0] ? { block: rows[0].block_number, halted: rows[0].halted_reason } : { block: -1n, halted: null };
}

/** A fresh database with the test app's tables, for indexers that follow one another on it (dropped when the test ends). */
async function sharedDatabase() {
  const database = await createTestDatabase(ledgerMigrations);
  onTestFinished(() => database.drop());
  return database;
}

/** History for the indexer to follow: `n` blocks, two writes in each and a child every third one. Returns the children. */
async function history(world: Awaited<ReturnType<typeof ledgerWorld>>, n: number, prefix = 'h') {
  const children: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 2) children.push((await world.createChild()).child);
    else await world.writeMany(`${prefix}-${i}`, 2);
  }
  return children;
}

/**
 * Invariant 1 across downtime: whatever the chain did while no indexer was
 * looking (or while it could not reach the node, or waited on a lock), the
 * projections end equal to a fresh index of the canonical chain.
 */
describe('indexer after downtime', () => {
  it('undoes a reorg that happened while it was stopped', async () => {
    const world = await ledgerWorld();
    const database = await sharedDatabase();
    const children = await history(world, 10);
    const head = await world.publicClient.getBlockNumber();
    const first = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3, database });
    await first.indexer.waitForBlock(head);
    await first.close();

    await world.reorg(2);
    await world.mine(10);
    const newHead = await world.publicClient.getBlockNumber();
    const second = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3, database });
    await second.indexer.waitForBlock(newHead);

    const state = await snapshot(database.pool, newHead);
    expect(state).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
    // The new branch's writes and child are there; the orphaned blocks' are not.
    expect(state.entries.find((e) => e.key === world.key('reorged-1'))?.value).toBe('1001');
    // Of the old children, the one created in the last two blocks is gone.
    expect(state.children.map((c) => c.address)).toEqual(expect.arrayContaining(children.slice(0, 2)));
    expect(state.children.map((c) => c.address)).not.toContain(children[2]);
    expect(state.children).toHaveLength(3);
  });

  it('undoes a reorg that happened during an RPC outage', async () => {
    const world = await ledgerWorld();
    const node = await startRpcProxy(world.rpcUrl);
    onTestFinished(() => node.close());
    await history(world, 10);
    const live = await runIndexer(node.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 3 });
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());

    node.setPlan({ errorRate: 1 });
    await until(() => (node.stats().injected.error ?? 0) >= 5, 'failed indexing steps');
    await world.reorg(2);
    await world.mine(10);
    node.setPlan({});
    const newHead = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(newHead);
    expect(await snapshot(live.database.pool, newHead)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });

  it('undoes a reorg that happened while a reindex held the checkpoint', async () => {
    const world = await ledgerWorld();
    await history(world, 5);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3 });
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());

    // What `ledgersync reindex` takes for its whole run: the checkpoint row.
    const lock = await live.database.pool.connect();
    onTestFinished(() => lock.release());
    await lock.query('begin');
    await lock.query('select * from indexer_checkpoints for update');
    // The chain reorganises and moves past finality while the indexer waits.
    await until(async () => (await live.database.pool.query("select 1 from pg_locks where not granted and locktype = 'transactionid'")).rows.length > 0, 'the indexer to wait on the lock');
    await world.reorg(2);
    await world.mine(10);
    await lock.query('commit');

    const newHead = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(newHead);
    expect(await snapshot(live.database.pool, newHead)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });

  it('undoes a one-block reorg of the block the contract was deployed in, when indexing starts at the head', async () => {
    const anvil = await startAnvil({ port: await freePort(), keepStates: 32 });
    onTestFinished(() => anvil.stop());
    const transport = http(anvil.rpcUrl);
    const client = createPublicClient({ chain: foundry, transport, cacheTime: 0 });
    const testClient = createTestClient({ chain: foundry, transport, mode: 'anvil' });
    const admin = createWalletClient({ account: mnemonicToAccount('test test test test test test test test test test test junk'), chain: foundry, transport });
    const deployment = encodeDeployData({ abi, bytecode });
    const receipt = await client.waitForTransactionReceipt({ hash: await admin.sendTransaction({ data: deployment }) });
    const ledger = receipt.contractAddress!;
    const deploymentsFile = join(scratchDir(), 'deployments.json');
    recordDeployment(deploymentsFile, `evm:${foundry.id}`, LEDGER, { address: ledger, blockNumber: Number(receipt.blockNumber) });

    const app = { withoutFactory: true };
    const live = await runIndexer(anvil.rpcUrl, { deploymentsFile, finalityDepth: 3, app });
    await live.indexer.waitForBlock(receipt.blockNumber);
    // The deployment block is replaced by one that deploys the same contract (same sender and nonce:
    // same address) and writes to it.
    const write = encodeFunctionData({ abi, functionName: 'write', args: [keccak256(toHex('after the reorg')), 7n] });
    await testClient.request({
      method: 'anvil_reorg' as never,
      params: [1, [[{ from: admin.account.address, data: deployment, gas: toHex(6_000_000) }, 0], [{ from: admin.account.address, to: ledger, data: write, gas: toHex(300_000) }, 0]]] as never,
    });
    expect((await client.getBlock({ blockNumber: receipt.blockNumber })).hash).not.toBe(receipt.blockHash);
    await testClient.mine({ blocks: 1 });
    const head = await client.getBlockNumber();
    await live.indexer.waitForBlock(head);

    expect((await checkpointOf(live.database.pool)).halted).toBeNull();
    const state = await snapshot(live.database.pool, head);
    expect(state.entries.map((e) => [e.key, e.value])).toEqual([[keccak256(toHex('after the reorg')), '7']]);
    expect(state).toEqual(await freshIndex(anvil.rpcUrl, deploymentsFile, head, app));
  });
});

/** Invariant 5: a lagging node is never mistaken for a reorg. */
describe('indexer behind a lagging node', () => {
  it('waits, without halting or rolling back, while the node reports a head below the checkpoint', async () => {
    const world = await ledgerWorld();
    const node = await startRpcProxy(world.rpcUrl);
    onTestFinished(() => node.close());
    await history(world, 20);
    const live = await runIndexer(node.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 5 });
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    const before = await snapshot(live.database.pool, head);

    // Far behind (below the headers kept for finality), then a little behind (within them).
    for (const lag of [12, 3]) {
      node.setPlan({ headLag: lag, headLagMin: lag });
      const asked = node.stats().byMethod.eth_blockNumber ?? 0;
      const lowest = await lowestCheckpointWhile(live.database.pool, () => (node.stats().byMethod.eth_blockNumber ?? 0) >= asked + 10);
      expect(lowest, `with the node ${lag} blocks behind`).toBe(head);
      expect((await checkpointOf(live.database.pool)).halted).toBeNull();
    }
    expect(await snapshot(live.database.pool, head)).toEqual(before);

    // A provider whose nodes answer up to 10 blocks behind, at random, while the chain grows.
    node.setPlan({ headLag: 10 });
    await history(world, 10, 'lagging');
    await world.mine(12);
    const newHead = await world.publicClient.getBlockNumber();
    await until(async () => (await checkpointOf(live.database.pool)).block >= newHead - 10n, 'the indexer to follow the lagging node');
    node.setPlan({});
    await live.indexer.waitForBlock(newHead);
    expect(await snapshot(live.database.pool, newHead)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });
});

describe('indexer failures', () => {
  it('halts with the reason on an error that retrying cannot cure, and resumes once it is cleared', async () => {
    const world = await ledgerWorld();
    await history(world, 3);
    const { child } = await world.createChild();
    await history(world, 3, 'after');
    const head = await world.publicClient.getBlockNumber();
    const database = await sharedDatabase();
    // A row the projection will collide with: a duplicate key fails the same way at every retry.
    await database.pool.query(`insert into ledger_children (chain, address, creator, salt, created_block) values ($1, $2, 'squatter', '0x0', 0)`, [world.chain, child]);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3, database });
    const halted = await until(async () => (await checkpointOf(database.pool)).halted, 'the chain to halt');
    expect(halted).toMatch(/^projection ledger_children failed on blocks? \d+.*duplicate key value violates unique constraint "ledger_children_chain_address_pk"/);
    const stuckAt = (await checkpointOf(database.pool)).block;
    expect(stuckAt).toBeLessThan(head);

    await database.pool.query("delete from ledger_children where creator = 'squatter'");
    await database.pool.query('update indexer_checkpoints set halted_reason = null');
    await live.indexer.waitForBlock(head);
    expect(await snapshot(database.pool, head)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, head));
  });

  it('gives back the pooled connection when the leader lock query fails', async () => {
    const world = await ledgerWorld();
    await history(world, 3);
    const database = await createTestDatabase(ledgerMigrations);
    // A role that may index but not take advisory locks: the lock query fails at every try.
    const role = `lockless_${Math.random().toString(36).slice(2, 8)}`;
    const url = new URL(database.url);
    url.username = role;
    url.password = 'pw';
    // Through connectDatabase, as every pool of the engine's roles is (block numbers as BigInt).
    const { pool, close } = connectDatabase(url.toString(), { max: 4 });
    onTestFinished(async () => {
      await close();
      await database.drop();
      const admin = new pg.Client({ connectionString: inject('databaseUrl') });
      await admin.connect();
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    });
    await database.pool.query(`create role ${role} login password 'pw'`);
    await database.pool.query(`grant all on schema public to ${role}; grant all on all tables in schema public to ${role}; grant all on all sequences in schema public to ${role}`);
    // Projection tables get the journal trigger, which only their owner may create.
    await database.pool.query(`alter table ledger_entries owner to ${role}; alter table ledger_children owner to ${role}`);
    await database.pool.query('revoke execute on function pg_try_advisory_lock(bigint) from public');

    const indexer = await indexLedger(await connectTestChain(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3 }), pool);
    onTestFinished(() => indexer.stop());
    // Three failed tries of the lock (one every 2 s): none may keep a connection checked out.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(pool.totalCount - pool.idleCount).toBe(0);

    await database.pool.query(`grant execute on function pg_try_advisory_lock(bigint) to ${role}`);
    await indexer.waitForBlock(await world.publicClient.getBlockNumber());
  });
});

/** The lowest checkpoint seen while polling until `done()`. */
async function lowestCheckpointWhile(pool: Pool, done: () => boolean): Promise<bigint> {
  let lowest: bigint | undefined;
  await until(async () => {
    const { block } = await checkpointOf(pool);
    lowest = lowest === undefined || block < lowest ? block : lowest;
    return done();
  }, 'enough head reads', 30_000, 20);
  return lowest!;
}
