import { describe, expect, it, onTestFinished } from 'vitest';
import { freshLedgerIndex, ledgerSnapshot, ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';

/** Invariant 1 under RPC faults: errors, 5xx, 429, timeouts, truncated bodies and range limits. */
describe('indexer through a faulty RPC', () => {
  it('converges to the canonical state in backfill and realtime', async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 60; i++) await world.writeMany(`batch-${i}`, 3);
    const child = await world.createChild();
    for (const label of ['batch-1-0', 'batch-7-1', 'batch-30-2']) await world.write(label, 99n);
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
    const live = await runLedgerIndexer(proxy.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 10, maxBlockRange: 64 });

    // History keeps growing while the indexer works through the faults (realtime blocks).
    for (let i = 0; i < 15; i++) await world.writeMany(`late-${i}`, 2);
    await world.ping(child.child, 3n);
    await world.createChild();
    await world.write('batch-50-0', 7n);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head, 120_000);

    expect(await ledgerSnapshot(live.database.pool, head)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
    const { injected } = proxy.stats();
    const kinds = ['error', 'serverError', 'rateLimit', 'timeout', 'truncate', 'range'];
    expect(Object.fromEntries(kinds.map((k) => [k, (injected[k] ?? 0) > 0]))).toEqual(Object.fromEntries(kinds.map((k) => [k, true])));
  }, 180_000);
});

/** A provider failing often but not always: progress between failures keeps the retries quick. */
describe('indexer behind a provider that fails one request in three', () => {
  it('retries quickly after each step that got somewhere, so a backfill keeps going at the pace the failures allow', async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 40; i++) await world.write(`key-${i % 8}`, BigInt(i));
    // One block per eth_getLogs, one at a time: a third of them fail (some 30), most after others succeeded.
    const proxy = await startRpcProxy(world.rpcUrl, { seed: 5, methods: ['eth_getLogs'], errorRate: 0.33 });
    onTestFinished(() => proxy.close());
    const ledgerOnly = { withoutFactory: true };
    const live = await runLedgerIndexer(proxy.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, maxBlockRange: 1, concurrency: 1, app: ledgerOnly });
    const head = await world.publicClient.getBlockNumber();
    // Backing off as if every failure repeated the one before (200 ms doubling to 10 s) would take minutes.
    await live.indexer.waitForBlock(head, 40_000);
    expect(proxy.stats().injected.error).toBeGreaterThanOrEqual(20);
    expect(await ledgerSnapshot(live.database.pool, head)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head, ledgerOnly));
  });
});
