import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { freshLedgerIndex, indexLedger, ledgerSnapshot, ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { CLI_WITH_TS_CONFIG, runCli, scratchDir } from '../harness/cli.js';
import { reindexProjection } from '../../src/core/indexer/reindex.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { entriesProjection } from '../app/index.js';

/** A deployment of the test app alone, for the CLI. */
const LEDGER_CONFIG = join(packageRoot, 'test', 'app', 'ledgersync.config.ts');

describe('reindex', () => {
  it('rebuilds projections from stored events with zero RPC calls, and reorgs still undo correctly afterwards', async () => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, wsUrl: world.wsUrl, finalityDepth: 32 });
    const children: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 4 === 3) children.push((await world.createChild()).child);
      else await world.writeMany(`r-${i % 7}`, 3);
    }
    for (const [n, child] of children.entries()) await world.ping(child as `0x${string}`, BigInt(n));
    await world.reorg(4);
    await world.mine(1);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    await live.indexer.stop();
    const indexed = await ledgerSnapshot(live.database.pool, head);
    expect(indexed.entries.some((e) => e.writes > 1)).toBe(true);

    // Damage the projections; reindex must put them back exactly.
    await live.database.pool.query("update ledger_entries set value = 0, writes = 99, writer = 'tampered'");
    await live.database.pool.query("update ledger_children set pings = 99, creator = 'tampered'");
    const callsBefore = live.evm.conn.meter.totalCalls();
    await reindexProjection(live.database.pool, world.chain, entriesProjection);
    expect(live.evm.conn.meter.totalCalls()).toBe(callsBefore);

    const childEvents = indexed.events.filter((e) => e.name === 'ChildCreated' || e.name === 'Pinged').length;
    // The CLI, with its RPC behind a counting proxy: not one request reaches it.
    const rpc = await startRpcProxy(world.rpcUrl);
    const cli = await runCli(['reindex', 'ledger_children'], {
      cwd: scratchDir(),
      script: CLI_WITH_TS_CONFIG,
      env: { DATABASE_URL: live.database.url, RPC_URL: rpc.url, DEPLOYMENTS_FILE: world.deploymentsFile, LEDGERSYNC_CONFIG: LEDGER_CONFIG },
    });
    await rpc.close();
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(new RegExp(`^ledger_children: replayed ${childEvents} events of chain evm:31337 in \\d+\\.\\d s\\n$`));
    expect(cli.code).toBe(0);
    expect(rpc.stats().requests).toBe(0);
    expect(await ledgerSnapshot(live.database.pool, head)).toEqual(indexed);

    // Replayed unfinalized blocks were journaled again: a reorg after the reindex is undone exactly.
    const resumed = await indexLedger(live.evm, live.database.pool);
    try {
      await world.reorg(6);
      await world.mine(1);
      const newHead = await world.publicClient.getBlockNumber();
      await resumed.waitForBlock(newHead);
      expect(await ledgerSnapshot(live.database.pool, newHead)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
    } finally {
      await resumed.stop();
    }
  }, 90_000);

  it('rejects an unknown projection with a one-line error', async () => {
    const result = await runCli(['reindex', 'nope'], {
      cwd: scratchDir(),
      script: CLI_WITH_TS_CONFIG,
      env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x', RPC_URL: 'http://127.0.0.1:1', LEDGERSYNC_CONFIG: LEDGER_CONFIG },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ledgersync: no projection named nope; known: ledger_entries, ledger_children\n');
  });
});

describe('indexer leadership', () => {
  it('runs one indexer per chain; a standby takes over when the leader stops', async () => {
    const world = await ledgerWorld();
    await world.writeMany('before', 3);
    const first = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 32 });
    // Let the first one take the lock before the second one starts.
    await first.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    const standby = await indexLedger(first.evm, first.database.pool);
    try {
      await world.writeMany('leader', 2);
      const head = await world.publicClient.getBlockNumber();
      await first.indexer.waitForBlock(head);
      // The standby never indexes while the leader runs.
      await expect(standby.waitForBlock(head, 1_500)).rejects.toThrow(/did not reach block/);
      await first.indexer.stop();
      await world.writeMany('standby', 2);
      await world.createChild();
      const newHead = await world.publicClient.getBlockNumber();
      await standby.waitForBlock(newHead, 15_000);
      expect(await ledgerSnapshot(first.database.pool, newHead)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
    } finally {
      await standby.stop();
    }
  }, 60_000);
});
