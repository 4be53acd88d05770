import { describe, expect, it } from 'vitest';
import { vaultWorld } from '../harness/vault-world.js';
import { freshIndex, indexCredentials, runIndexer, snapshot } from '../harness/indexer.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { runCli, scratchDir } from '../harness/cli.js';
import { reindexProjection } from '../../src/core/indexer/reindex.js';
import { credentialsProjection } from '../../src/apps/credentials/projections.js';

describe('reindex', () => {

  it('rebuilds projections from stored events with zero RPC calls, and reorgs still undo correctly afterwards', async () => {
    const world = await vaultWorld();
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, wsUrl: world.wsUrl, finalityDepth: 32 });
    for (let i = 0; i < 40; i++) await world.issueBatch(3);
    await world.revoke(3n);
    await world.revoke(90n);
    await world.reorg(4);
    await world.mine(1);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    await live.indexer.stop();
    const indexed = await snapshot(live.database.pool, head);

    // Damage the projections; reindex must put them back exactly.
    await live.database.pool.query("update credentials set revoked = true, metadata_uri = 'tampered'");
    await live.database.pool.query("update institutions set name = 'tampered'");
    const callsBefore = live.chain.meter.totalCalls();
    await reindexProjection(live.database.pool, 'evm:31337', credentialsProjection);
    expect(live.chain.meter.totalCalls()).toBe(callsBefore);

    // The CLI, with its RPC behind a counting proxy: not one request reaches it.
    const rpc = await startRpcProxy(world.rpcUrl);
    const cli = await runCli(['reindex', 'institutions'], {
      cwd: scratchDir(),
      env: { DATABASE_URL: live.database.url, RPC_URL: rpc.url, DEPLOYMENTS_FILE: world.deploymentsFile },
    });
    await rpc.close();
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^institutions: replayed 2 events of chain evm:31337 in \d+\.\d s\n$/);
    expect(cli.code).toBe(0);
    expect(rpc.stats().requests).toBe(0);
    expect(await snapshot(live.database.pool, head)).toEqual(indexed);

    // Replayed unfinalized blocks were journaled again: a reorg after the reindex is undone exactly.
    const resumed = await indexCredentials(live.evm, live.database.pool);
    try {
      await world.reorg(6);
      await world.mine(1);
      const newHead = await world.publicClient.getBlockNumber();
      await resumed.waitForBlock(newHead);
      expect(await snapshot(live.database.pool, newHead)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
    } finally {
      await resumed.stop();
    }
  }, 90_000);

  it('rejects an unknown projection with a one-line error', async () => {
    const result = await runCli(['reindex', 'nope'], { cwd: scratchDir(), env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x', RPC_URL: 'http://127.0.0.1:1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ledgersync: no projection named nope; known: institutions, credentials\n');
  });
});

describe('indexer leadership', () => {
  it('runs one indexer per chain; a standby takes over when the leader stops', async () => {
    const world = await vaultWorld();
    try {
      const first = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 32 });
      // Let the first one take the lock before the second one starts.
      await first.indexer.waitForBlock(await world.publicClient.getBlockNumber());
      const standby = await indexCredentials(first.evm, first.database.pool);
      try {
        await world.issueBatch(2);
        const head = await world.publicClient.getBlockNumber();
        await first.indexer.waitForBlock(head);
        // The standby never indexes while the leader runs.
        await expect(standby.waitForBlock(head, 1_500)).rejects.toThrow(/did not reach block/);
        await first.indexer.stop();
        await world.issueBatch(2);
        const newHead = await world.publicClient.getBlockNumber();
        await standby.waitForBlock(newHead, 15_000);
        expect(await snapshot(first.database.pool, newHead)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, newHead));
      } finally {
        await standby.stop();
        await first.close();
      }
    } finally {
      await world.stop();
    }
  }, 60_000);
});
