import { describe, expect, it, onTestFinished } from 'vitest';
import { join } from 'node:path';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { SuiGrpcClient } from '@mysten/sui/grpc';
import { SuiLedger } from '../../src/chain/sui/simulator/ledger.js';
import { SUI_DEV_KEY } from '../../src/config/index.js';
import { connectDatabase } from '../../src/db/client.js';
import { freePort } from '../../src/runtime/ports.js';
import { createEmptyDatabase } from '../harness/db.js';
import { RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { until } from '../harness/until.js';
import { addWallets, SUI_CHAIN, SUI_CLI, SUI_CONFIG } from '../app-sui/world.js';

/** What the embedded simulator funds at start (a million SUI); the chain's relayer signs with it too (its gas pool is split at start). */
const DEV_ADDRESS = Ed25519Keypair.fromSecretKey(SUI_DEV_KEY).toSuiAddress();

/**
 * `ledgersync start` with a Sui chain configured without a URL: it starts the
 * Sui simulator on the configured port and indexes it; /ready, /metrics and
 * `ledgersync status` report the chain in checkpoints. The simulator's network
 * is new at every start, so the next start forgets what was indexed from the
 * previous one (saying so) and indexes the new one.
 */
describe('ledgersync start with an embedded Sui simulator', () => {
  it('indexes it, reports it on /ready, /metrics and status, and forgets the previous network at the next start', async () => {
    const cwd = scratchDir();
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const [port, simPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: database.url,
      LEDGERSYNC_HOME: join(cwd, '.ledgersync'),
      LEDGERSYNC_CONFIG: SUI_CONFIG,
      PORT: String(port),
      SUI_SIM_PORT: String(simPort),
      SUI_CHECKPOINT_INTERVAL_MS: '200',
      // The package of the simulator's default seed, which the embedded one uses.
      SUI_PACKAGE: new SuiLedger().packageId,
      LOG_LEVEL: 'warn',
    };
    const api = `http://127.0.0.1:${port}`;
    expect((await runCli(['migrate'], { cwd, env, script: SUI_CLI })).stderr).toBe('');
    const { pool, close } = connectDatabase(database.url, { max: 1 });
    onTestFinished(close);
    await addWallets(pool, [DEV_ADDRESS]);
    const devBalance = async () => (await pool.query<{ balance: string; changes: number }>('select balance::text, changes from sui_balances where address = $1', [DEV_ADDRESS])).rows[0];
    const sim = new SuiGrpcClient({ network: 'localnet', baseUrl: `http://127.0.0.1:${simPort}` });
    const chainBalance = async () => (await sim.getBalance({ owner: DEV_ADDRESS })).balance.balance;
    /** The indexed balance (the sum of every balance change) comes to what the chain holds, from the funding on. */
    const indexedAsOnChain = async () => {
      const indexed = await devBalance();
      return indexed !== undefined && indexed.changes >= 1 && indexed.balance === (await chainBalance());
    };

    const first = new RunningCli(['start'], { cwd, env, script: SUI_CLI });
    await first.waitForReady(`${api}/ready`);
    const ready = { checks: await first.readyChecks(`${api}/ready`) };
    expect(ready.checks.chain).toMatchObject({ ok: true, chain: SUI_CHAIN, latestCheckpoint: expect.any(Number) });
    expect(ready.checks.indexer).toMatchObject({ ok: true, indexedCheckpoint: expect.any(Number) });
    // The simulator is on the configured port, and the dev key's funding (and the relayer's pool split) were indexed.
    await until(indexedAsOnChain, 'the dev key balance to be indexed as the chain has it');

    const status = await runCli(['status'], { cwd, env, script: SUI_CLI });
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(new RegExp(`^ok {4}chain {5}${SUI_CHAIN} at http://127\\.0\\.0\\.1:${simPort}/ \\(embedded simulator\\), latest checkpoint \\d+$`, 'm'));
    const indexed = /^ok {4}indexer {3}sui:localnet-sim indexed to checkpoint (\d+) of (\d+), lag (\d+) checkpoints? \(last seen \d+ s ago\)$/m.exec(status.stdout);
    expect(indexed, status.stdout).not.toBeNull();
    const [checkpoint, latest, lag] = indexed!.slice(1).map(Number) as [number, number, number];
    expect(latest - checkpoint).toBe(lag);
    expect(status.code).toBe(0);

    const metrics = await (await fetch(`${api}/metrics`)).text();
    for (const series of ['ledgersync_indexer_head_block', 'ledgersync_indexer_indexed_block', 'ledgersync_indexer_lag_blocks', 'ledgersync_indexer_leader']) {
      expect(metrics).toMatch(new RegExp(`^${series}\\{chain="${SUI_CHAIN}"\\} \\d+$`, 'm'));
    }
    for (const method of ['GetServiceInfo', 'SubscribeCheckpoints', 'ListCheckpoints']) {
      expect(metrics).toMatch(new RegExp(`^ledgersync_rpc_calls_total\\{chain="${SUI_CHAIN}",method="${method}"\\} [1-9]\\d*$`, 'm'));
    }
    expect(await first.stop('SIGINT')).toBe(0);
    // Once stopped, the simulator is gone with it: status says so, and still where the indexer stands.
    const down = await runCli(['status'], { cwd, env, script: SUI_CLI });
    expect(down.stdout).toMatch(new RegExp(`^FAIL  chain {5}${SUI_CHAIN} at http://127\\.0\\.0\\.1:${simPort}/ \\(embedded simulator\\): not answering \\(.+\\): it runs only while ledgersync start does$`, 'm'));
    expect(down.stdout).toMatch(/^ok {4}indexer {3}sui:localnet-sim indexed to checkpoint \d+ \(last seen \d+ s ago\)$/m);
    expect(down.code).toBe(1);

    // What was indexed from the first network, marked: the second start must forget it, not build on it.
    await pool.query("update sui_balances set balance = 0, changes = 0");
    const second = new RunningCli(['start'], { cwd, env, script: SUI_CLI });
    await second.waitForReady(`${api}/ready`);
    // Built on the marked rows, the balance would stay short of the chain's by what was zeroed.
    await until(indexedAsOnChain, "the new network's dev key balance to be indexed as the chain has it");
    expect(second.output).toContain('the embedded Sui simulator starts a new network each time: forgot what was indexed from the previous one');
    expect(first.output).not.toContain('forgot what was indexed');
    expect(await second.stop('SIGINT'), second.output).toBe(0);
  }, 120_000);
});
