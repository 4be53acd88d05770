import { describe, expect, it, onTestFinished } from 'vitest';
import { vaultWorld } from '../harness/vault-world.js';
import { freshIndex, runIndexer, snapshot } from '../harness/indexer.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';

/** Invariant 1 under RPC faults: errors, 5xx, 429, timeouts, truncated bodies and range limits. */
describe('indexer through a faulty RPC', () => {
  it('converges to the canonical state in backfill and realtime', async () => {
    const world = await vaultWorld();
    for (let i = 0; i < 60; i++) await world.issueBatch(3);
    for (const id of [1n, 7n, 30n]) await world.revoke(id);
    const proxy = await startRpcProxy(world.rpcUrl, {
      seed: 11,
      // Per HTTP request (a JSON-RPC batch is one): roughly a quarter of them fail in some way.
      errorRate: 0.05,
      serverErrorRate: 0.06,
      rateLimitRate: 0.06,
      timeoutRate: 0.04,
      timeoutMs: 1_500,
      truncateRate: 0.06,
      maxLogRange: 7,
      rangeErrorStyle: 'mixed',
    });
    onTestFinished(() => proxy.close());
    const live = await runIndexer(proxy.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 10, maxBlockRange: 64 });

    // History keeps growing while the indexer works through the faults (realtime blocks).
    for (let i = 0; i < 15; i++) await world.issueBatch(2);
    await world.revoke(50n);
    await world.renameInstitution('After the faults');
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head, 120_000);

    expect(await snapshot(live.database.pool, head)).toEqual(await freshIndex(world.rpcUrl, world.deploymentsFile, head));
    const { injected } = proxy.stats();
    const kinds = ['error', 'serverError', 'rateLimit', 'timeout', 'truncate', 'range'];
    expect(Object.fromEntries(kinds.map((k) => [k, (injected[k] ?? 0) > 0]))).toEqual(Object.fromEntries(kinds.map((k) => [k, true])));
    for (const kind of kinds) {
      expect(injected[kind], `faults of kind ${kind} were injected`).toBeGreaterThan(0);
    }
  }, 180_000);
});
