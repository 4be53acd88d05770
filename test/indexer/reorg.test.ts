import { describe, expect, it, onTestFinished } from 'vitest';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { metrics } from '../../src/runtime/metrics.js';
import { freshLedgerIndex, ledgerSnapshot, ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';

/**
 * Invariant 1: after any reorg, every projection equals a fresh index of the
 * canonical chain. Invariant 5: a reorg deeper than finality halts loudly.
 */
describe('indexer through reorgs', () => {
  it.each([1, 5, 20])('converges after a reorg of depth %i', async (depth) => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, wsUrl: world.wsUrl, finalityDepth: 32 });
    for (let i = 0; i < 25; i++) await world.writeMany(`batch-${i}`, 3);
    const child = await world.createChild();
    await world.ping(child.child, 1n);
    await world.write('batch-2-0', 42n);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    const before = await ledgerSnapshot(live.database.pool, head);

    await world.reorg(depth);
    // Same height after anvil_reorg; mine one more so the indexer has a new head to notice.
    await world.mine(1);
    const newHead = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(newHead);

    const after = await ledgerSnapshot(live.database.pool, newHead);
    const canonical = await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead);
    expect(after).toEqual(canonical);
    // The reorg really changed history: the old branch's last write (42) is undone, the new branch's write and
    // child are there, and the old child is gone when its creation (3 blocks from the top) was replaced.
    expect(after).not.toEqual(before);
    expect(after.entries.some((e) => e.key === world.key('reorged-0'))).toBe(true);
    expect(after.entries.find((e) => e.key === world.key('batch-2-0'))?.value).toBe('1');
    expect(after.children.map((c) => c.address).includes(child.child)).toBe(depth < 3);
    expect(after.children).toHaveLength(depth < 3 ? 2 : 1);
    const { rows } = await live.database.pool.query('select count(*)::int as n from indexer_journal where block_number <= $1', [newHead - 32n]);
    expect(rows[0].n).toBe(0);
    // The reorg is counted, with its depth, on /metrics.
    const text = await metrics.metrics();
    expect(text).toMatch(new RegExp(`^ledgersync_indexer_reorgs_total\\{chain="${world.chain}"\\} [1-9]`, 'm'));
    expect(text).toMatch(new RegExp(`^ledgersync_indexer_indexed_block\\{chain="${world.chain}"\\} ${newHead}$`, 'm'));
  }, 60_000);

  it('converges after a reorg during a backfill', async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 120; i++) await world.writeMany(`batch-${i}`, 2);
    // Small ranges, one at a time, through a slow node: the backfill takes many commits, and the reorg lands in the middle.
    const slowNode = await startRpcProxy(world.rpcUrl, { latencyMs: 20 });
    onTestFinished(() => slowNode.close());
    const live = await runLedgerIndexer(slowNode.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 32, maxBlockRange: 4, concurrency: 1 });
    await waitForRow(live.database.pool, 'select block_number from indexer_checkpoints where block_number > 10');
    await world.reorg(8);
    const { rows: [atReorg] } = await live.database.pool.query('select block_number from indexer_checkpoints');
    await world.mine(1);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    const { rows: [checkpoint] } = await live.database.pool.query('select block_number from indexer_checkpoints');
    expect(atReorg.block_number).toBeLessThan(head - 32n);
    expect(checkpoint.block_number).toBe(head);
    expect(await ledgerSnapshot(live.database.pool, head)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
  }, 90_000);

  it('halts the chain, keeps its data, and says why when a reorg is deeper than finality', async () => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 3 });
    for (let i = 0; i < 10; i++) await world.write(`w-${i}`, BigInt(i));
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    const before = await ledgerSnapshot(live.database.pool, head);

    await world.reorg(6);
    await world.mine(1);
    const { rows } = await waitForRow(live.database.pool, 'select halted_reason, block_number from indexer_checkpoints where halted_reason is not null');
    expect(rows[0].halted_reason).toMatch(/deeper than the finality depth of 3 blocks; indexing stopped/);
    expect(rows[0].block_number).toBe(head);
    // Nothing was rolled back or applied: the data is the pre-reorg state, intact.
    expect(await ledgerSnapshot(live.database.pool, head)).toEqual(before);
  }, 60_000);
});

async function waitForRow(pool: import('pg').Pool, sql: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await pool.query(sql);
    if (result.rows.length > 0) return result;
    if (Date.now() > deadline) throw new Error(`no row for: ${sql}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
