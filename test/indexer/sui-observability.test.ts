import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { engineReadiness } from '../../src/wiring/readiness.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';
import { suiTestMigrations } from '../app-sui/index.js';
import { addWallets, connectSimulator, indexSui, suiWorld, SUI_CHAIN } from '../app-sui/world.js';

/** What the indexer's series read for one chain in a Prometheus exposition. */
function seriesOf(exposition: string, chain: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of exposition.split('\n')) {
    const match = /^(ledgersync_\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || !match[2]!.includes(`chain="${chain}"`)) continue;
    const method = /method="(\w+)"/.exec(match[2]!)?.[1];
    series.set(method ? `${match[1]} ${method}` : match[1]!, Number(match[3]));
  }
  return series;
}

/** /ready and /metrics of a deployment with a Sui chain speak of checkpoints, and count every gRPC call by method. */
describe('Sui chain in /ready and /metrics', () => {
  it('is ready once the indexer is within ten checkpoints of the latest, saying so in checkpoints; serves the indexer series and gRPC calls by method', async () => {
    const { sim, ledger, packageId, wallets } = await suiWorld();
    ledger.emitCheckpoints(500, { packages: [packageId], addresses: wallets, relevantEvery: 5 });
    const database = await createTestDatabase(suiTestMigrations);
    await addWallets(database.pool, wallets);
    // The readiness checks' own connection, as the api role has.
    const chain = await connectSimulator(sim.url);
    const server = await buildServer({ logger: createLogger('silent'), readiness: engineReadiness({ database, chains: new Map([[chain.key, chain]]) }), version: '0.0.0-test' });
    onTestFinished(() => server.close());
    const ready = async () => {
      const res = await server.inject({ url: '/ready' });
      return { status: res.statusCode, body: res.json() };
    };

    // What an indexer writes as it goes: its checkpoint row (taken back for each case).
    await database.pool.query('delete from indexer_checkpoints');
    expect((await ready()).body.detail).toBe('not ready: indexer: indexer has not started on this chain');
    const head = ledger.height;
    await database.pool.query("insert into indexer_checkpoints (chain, block_number, block_hash) values ($1, $2, 'x')", [SUI_CHAIN, head - 11]);
    expect(await ready()).toMatchObject({ status: 503, body: { detail: 'not ready: indexer: 11 checkpoints behind the latest checkpoint', checks: { indexer: { indexedCheckpoint: head - 11 } } } });
    await database.pool.query('update indexer_checkpoints set block_number = $1', [head - 10]);
    expect(await ready()).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { chain: { ok: true, chain: SUI_CHAIN, latestCheckpoint: head }, indexer: { ok: true, indexedCheckpoint: head - 10, behind: 10 } } },
    });
    await database.pool.query("update indexer_checkpoints set halted_reason = 'another network'");
    expect(await ready()).toMatchObject({ status: 503, body: { detail: 'not ready: indexer: halted: another network' } });

    // A real indexer, then live checkpoints.
    await database.pool.query('delete from indexer_checkpoints');
    const again = await indexSui(sim.url, database.pool, packageId);
    await again.indexer.waitForBlock(BigInt(ledger.height));
    ledger.emitCheckpoints(5, { packages: [packageId], addresses: wallets, relevantEvery: 1 });
    await again.indexer.waitForBlock(BigInt(ledger.height));
    await until(async () => (await ready()).status === 200, '/ready');
    expect((await ready()).body.checks.indexer).toEqual({ ok: true, indexedCheckpoint: ledger.height, behind: 0 });

    // Stopped first, so that no call happens between the counts compared.
    await again.stop();
    const metrics = await server.inject({ url: '/metrics' });
    const series = seriesOf(metrics.body, SUI_CHAIN);
    expect(series.get('ledgersync_indexer_head_block')).toBe(ledger.height);
    expect(series.get('ledgersync_indexer_indexed_block')).toBe(ledger.height);
    expect(series.get('ledgersync_indexer_lag_blocks')).toBe(0);
    // Simulated time: checkpoint n is stamped genesis + n × 250 ms, long ago.
    expect(series.get('ledgersync_indexer_lag_seconds')).toBeCloseTo(Date.now() / 1000 - Math.floor(ledger.timestampMs(ledger.height) / 1000), -1);
    expect(series.get('ledgersync_indexer_events_total')).toBeGreaterThan(200);
    expect(series.get('ledgersync_indexer_halted')).toBe(0);
    expect(series.has('ledgersync_indexer_leader')).toBe(true);
    // Every gRPC call the simulator received from this deployment (there is no other client) is counted, by method.
    const served = sim.stats().calls;
    expect(Object.keys(served)).toEqual(expect.arrayContaining(['GetServiceInfo', 'ListCheckpoints', 'SubscribeCheckpoints']));
    const [readiness, indexing] = [chain.conn.meter.callsByMethod(), again.chain.conn.meter.callsByMethod()];
    const counted = Object.fromEntries(Object.keys(served).map((method) => [method, (readiness[method] ?? 0) + (indexing[method] ?? 0)]));
    expect(counted).toEqual(served);
    for (const method of Object.keys(served)) expect(series.get(`ledgersync_rpc_calls_total ${method}`)).toBe(served[method]);
  }, 60_000);
});
