import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { startSuiSimulator } from '../../../src/chain/sui/simulator/index.js';
import { connectSimulator, SUI_CHAIN } from '../../app-sui/world.js';
import { createPublicClient, http as viemHttp, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { metrics } from '../../../src/runtime/metrics.js';
import { freePort } from '../../../src/runtime/ports.js';
import {
  AccountNotFoundError,
  cachedBalance,
  ChainUnavailableError,
  ContractNotDeployedError,
  getBalance,
  readChainBalance,
  readChainBalances,
  reconcileBalances,
  RECONCILE_TASK,
  recordChainRead,
  REFRESH_TASK,
  UnknownTokenError,
  type BalancePorts,
} from '../../../src/apps/payments/balances/index.js';
import { findSend, sendCusd } from '../../../src/apps/payments/sends/index.js';
import { EVM_CHAIN, paymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';
import { EVM_SETTINGS, evmAccount, paymentsPorts } from './balance-ports.js';
import { runJob } from './jobs.js';

const CUSD = 1_000_000n;
const token = 'cUSD';
const DRIFT_METRIC = 'ledgersync_payments_balance_drift_total';

async function driftsCounted(): Promise<number> {
  const metric = await metrics.getSingleMetric(DRIFT_METRIC)!.get();
  return metric.values.find((v) => v.labels.chain === EVM_CHAIN && v.labels.token === token)?.value ?? 0;
}

/**
 * Cached balances (seed 004): display reads served from PostgreSQL with zero
 * chain calls, critical reads from the chain that update the cache, the
 * refresh of stale balances and the reconciliation that finds and repairs
 * drifts, both run as the worker runs them (graphile-worker jobs). The worker
 * runs throughout; the poller joins for the reconciliation.
 */
describe('payments balances', () => {
  it('serves cached reads without chain calls, reads the chain when critical, refreshes stale balances and reconciles drifts', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start(['worker']);
    const { ports, evm } = await paymentsPorts(world);
    const pool = world.pool();
    const meter = evm.conn.meter;
    const ana = await evmAccount(world, 'ana', { key: 1 });
    await world.mint(ana.address, 50n * CUSD);

    // Never read: there is nothing cached to serve, so the chain is read once and cached.
    let calls = meter.totalCalls();
    const first = await getBalance(ports, ana.id, token);
    const head = await world.publicClient.getBlockNumber();
    expect(first).toMatchObject({ amount: 50n * CUSD, pendingOut: 0n, pendingIn: 0n, available: 50n * CUSD, stale: false, source: 'chain' });
    expect(first.height).toBeGreaterThan(0n);
    expect(first.height).toBeLessThanOrEqual(head);
    expect(meter.totalCalls()).toBeGreaterThan(calls);

    // Cached: zero RPC calls, even after money arrived that the cache does not know of.
    await world.mint(ana.address, 7n * CUSD);
    calls = meter.totalCalls();
    const cached = await getBalance(ports, ana.id, token);
    expect(cached).toEqual({ ...first, source: 'cache' });
    expect(meter.totalCalls()).toBe(calls);

    // Critical: from the chain (at least one call), and the cache updated: amount, height, last_synced, stale.
    await pool.query('update payment_balances set stale = true where account_id = $1', [ana.id]);
    calls = meter.totalCalls();
    const critical = await getBalance(ports, ana.id, token, { verifyCritical: true });
    expect(meter.totalCalls()).toBeGreaterThan(calls);
    expect(critical).toMatchObject({ amount: 57n * CUSD, available: 57n * CUSD, stale: false, source: 'chain' });
    expect(critical.height!).toBeGreaterThan(first.height!);
    expect(critical.lastSynced!.getTime()).toBeGreaterThan(first.lastSynced!.getTime());
    calls = meter.totalCalls();
    expect(await getBalance(ports, ana.id, token)).toEqual({ ...critical, source: 'cache' });
    expect(meter.totalCalls()).toBe(calls);

    // The cache never goes back in time: a read at an older height (a node behind) is not stored.
    await recordChainRead(pool, ana.id, token, { amount: 1n, height: first.height!, readAt: new Date() });
    expect((await cachedBalance(pool, ana.id, token))!.amount).toBe(57n * CUSD);
    await expect(getBalance(ports, '999999', token)).rejects.toThrow(AccountNotFoundError);
    // A deployments file that does not match the chain (no code at the address) is named as such.
    await expect(readChainBalance({ ...ports, deployment: () => '0x00000000000000000000000000000000000000c5' }, EVM_CHAIN, ana.address)).rejects.toThrow(ContractNotDeployedError);

    // Refresh: a settled send marks the balance stale; the refresh job reads it back fresh.
    const outsider = await world.wallet();
    const { send } = await sendCusd(ports, { accountId: ana.id, to: outsider.address, amount: 10n * CUSD, idempotencyKey: 'to-outsider' });
    await until(async () => (await findSend(pool, send.id))!.state === 'confirmed', 'the send to be confirmed', 60_000);
    const settled = (await cachedBalance(pool, ana.id, token))!;
    expect([settled.amount, settled.stale, settled.pendingOut]).toEqual([57n * CUSD, true, 0n]);
    expect((await getBalance(ports, ana.id, token)).stale).toBe(true);
    await runJob(pool, REFRESH_TASK);
    const refreshed = (await cachedBalance(pool, ana.id, token))!;
    expect([refreshed.amount, refreshed.stale]).toEqual([47n * CUSD, false]);
    expect(refreshed.height!).toBeGreaterThan(settled.height!);
    expect(refreshed.amount).toBe(await world.balanceOf(ana.address));

    // Reconcile. Ana's cache is fresh; money reaches her behind its back (no poller runs): a drift.
    // Cara's cache knows it is out of date (stale, as the poller marks it): repaired, not a drift.
    // Ben was never read: his balance is read, nothing to compare.
    const cara = await evmAccount(world, 'cara', { key: 2 });
    await getBalance(ports, cara.id, token, { verifyCritical: true });
    await world.mint(cara.address, 3n * CUSD);
    await pool.query('update payment_balances set stale = true where account_id = $1', [cara.id]);
    const ben = await evmAccount(world, 'ben', { address: outsider.address });
    await world.mint(outsider.address, 20n * CUSD);
    // The poller runs from here on: it records the transfer to Ana and marks her balance stale. A miss is simulated
    // as the issue says, by deleting its record, and with it the stale mark the poller set: the cache holds 47 as fresh.
    await world.start(['indexer']);
    const transfer = await outsider.transfer(ana.address, 5n * CUSD);
    await until(async () => (await pool.query('select 1 from payment_transactions where transaction_id = $1', [transfer.transactionHash])).rowCount, 'the poller recording the transfer', 60_000);
    await pool.query('delete from payment_transactions where transaction_id = $1', [transfer.transactionHash]);
    await pool.query('update payment_balances set stale = false where account_id = $1', [ana.id]);
    const warn = vi.spyOn(world.stack().logger, 'warn');
    const countedBefore = await driftsCounted();

    // A difference is judged only once the poller has processed every block the read may reflect. With the poller
    // stopped (blocks keep coming) the run waits for it, then leaves the difference to the next run: no drift, the cache
    // as it was. Cara and Ben are read all the same.
    await world.stopRole('indexer');
    await world.mint(`0x${randomBytes(20).toString('hex')}`, 1n);
    expect(await reconcileBalances(ports, { pollerWaitMs: 1_500 })).toEqual({ checked: 3, drifts: 0, undecided: 1, failed: 0 });
    expect((await pool.query('select count(*)::int as n from payment_balance_drifts')).rows[0].n).toBe(0);
    expect(await cachedBalance(pool, ana.id, token)).toMatchObject({ amount: 47n * CUSD, stale: false });
    // The poller back: one run finds it (reading at the head, ahead of the poller, it waits for the poller to pass).
    await world.start(['indexer']);
    await runJob(pool, RECONCILE_TASK);
    const { rows: drifts } = await pool.query<{ account_id: bigint; token: string; cached: string; on_chain: string; height: bigint }>('select * from payment_balance_drifts');
    expect(drifts).toHaveLength(1);
    expect(drifts[0]).toMatchObject({ account_id: BigInt(ana.id), token, cached: String(47n * CUSD), on_chain: String(52n * CUSD) });
    expect(drifts[0]!.height).toBeGreaterThanOrEqual(transfer.blockNumber);
    expect(await driftsCounted()).toBe(countedBefore + 1);
    const lines = warn.mock.calls.filter(([, message]) => typeof message === 'string' && message.includes('balance drift'));
    expect(lines).toHaveLength(1);
    expect(lines[0]![0]).toMatchObject({ accountId: ana.id, cached: String(47n * CUSD), onChain: String(52n * CUSD), height: String(drifts[0]!.height) });
    const repaired = (await cachedBalance(pool, ana.id, token))!;
    expect([repaired.amount, repaired.stale, repaired.height]).toEqual([52n * CUSD, false, drifts[0]!.height]);
    expect((await cachedBalance(pool, cara.id, token))!).toMatchObject({ amount: 3n * CUSD, stale: false });
    expect((await cachedBalance(pool, ben.id, token))!).toMatchObject({ amount: 25n * CUSD, stale: false });

    // A second run finds nothing more.
    await runJob(pool, RECONCILE_TASK);
    expect((await pool.query('select count(*)::int as n from payment_balance_drifts')).rows[0].n).toBe(1);
    expect(await driftsCounted()).toBe(countedBefore + 1);
    expect(warn.mock.calls.filter(([, message]) => typeof message === 'string' && message.includes('balance drift'))).toHaveLength(1);
  }, 120_000);

  it('names what stops a chain read: a token it does not keep, no contract deployed, a chain that does not answer', async () => {
    const dead = createPublicClient({ chain: foundry, transport: viemHttp(`http://127.0.0.1:${await freePort()}`, { retryCount: 0 }), cacheTime: 0 }) as PublicClient;
    const ports = (deployment: BalancePorts['deployment']): BalancePorts => ({
      pool: undefined as never,
      chains: new Map([[EVM_CHAIN, { key: EVM_CHAIN, chainId: 31337, client: dead }]]),
      suiChains: new Map(),
      deployment,
      settings: EVM_SETTINGS,
    });
    const someone = '0x00000000000000000000000000000000000000a1';
    await expect(getBalance(ports(() => undefined), '1', 'BTC')).rejects.toThrow(UnknownTokenError);
    await expect(readChainBalance(ports(() => undefined), EVM_CHAIN, someone)).rejects.toThrow(ContractNotDeployedError);
    const unreachable = readChainBalance(ports(() => '0x00000000000000000000000000000000000000c5'), EVM_CHAIN, someone);
    await expect(unreachable).rejects.toThrow(ChainUnavailableError);
    await expect(unreachable).rejects.toThrow(/^cannot read cUSD balances on evm:31337: /);
    await expect(readChainBalance(ports(() => undefined), 'evm:1', someone)).rejects.toThrow(/does not run on chain evm:1/);
  });

  it('reads cUSD balances on Sui (the simulator) with the checkpoint they are at least as recent as, through the metered client', async () => {
    const sim = await startSuiSimulator({ seed: 7 });
    onTestFinished(() => sim.close());
    const chain = await connectSimulator(sim.url);
    const [holder, nobody] = [0, 1].map(() => normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`)) as [string, string];
    sim.ledger.confio.mint(holder, 5n * CUSD);
    sim.ledger.makeCheckpoint();
    const ports: BalancePorts = {
      pool: undefined as never,
      chains: new Map(),
      suiChains: new Map([[SUI_CHAIN, { key: SUI_CHAIN, client: chain.conn.client }]]),
      deployment: () => undefined,
      settings: {
        ...EVM_SETTINGS,
        chains: [{ family: 'sui', chain: SUI_CHAIN, packages: { cusd: sim.ledger.confio.packages.cusd, pay: sim.ledger.confio.packages.pay, p2pTrade: sim.ledger.confio.packages.p2pTrade }, cusdType: sim.ledger.cusdType, startCheckpoint: 0n }],
      },
    };
    const calls = chain.conn.meter.totalCalls();
    const read = await readChainBalances(ports, SUI_CHAIN, [holder, nobody]);
    expect(read.amounts).toEqual([5n * CUSD, 0n]);
    expect(read.height).toBe(BigInt(sim.ledger.height));
    // One checkpoint height for the batch, then one balance per address.
    expect(chain.conn.meter.totalCalls() - calls).toBe(3);
    sim.ledger.confio.transfer(holder, nobody, 2n * CUSD);
    sim.ledger.makeCheckpoint();
    expect(await readChainBalance(ports, SUI_CHAIN, nobody)).toMatchObject({ amount: 2n * CUSD, height: BigInt(sim.ledger.height) });
    await sim.close();
    await expect(readChainBalance(ports, SUI_CHAIN, nobody)).rejects.toThrow(ChainUnavailableError);
  });
});
