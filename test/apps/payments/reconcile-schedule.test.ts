/**
 * Seed 004's hourly reconcile, run by the worker on its own schedule (here
 * every minute, so the test waits at most one): a drift it finds is recorded,
 * logged and repaired. A file of its own: the payments test world is one per
 * file (the config file reads the environment once).
 */
import { describe, expect, it, vi } from 'vitest';
import { cachedBalance, getBalance, RECONCILE_TASK } from '../../../src/apps/payments/balances/index.js';
import { paymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';
import { evmAccount, paymentsPorts } from './balance-ports.js';
import { earlyInAMinute } from './minute.js';

const CUSD = 1_000_000n;

describe('payments reconcile schedule', () => {
  it('the worker reconciles balances on its schedule, and records a drift it finds', async () => {
    const world = await paymentsWorld({ extraEnv: { PAYMENTS_RECONCILE_CRON: '* * * * *' } });
    await world.deploy();
    await world.start(['indexer', 'worker']);
    const pool = world.pool();
    const { ports } = await paymentsPorts(world);
    const warn = vi.spyOn(world.stack().logger, 'warn');
    const info = vi.spyOn(world.stack().logger, 'info');
    const ana = await evmAccount(world, 'ana', { key: 1 });
    const outsider = await world.wallet();
    await world.mint(outsider.address, 20n * CUSD);

    // Ana's cache is read (25) and fresh; then 5 reach her and the poller misses it: as in balances.test.ts, the miss is
    // made by deleting the poller's record and its stale mark. Early in a minute, so no tick comes between.
    await world.mint(ana.address, 25n * CUSD);
    await earlyInAMinute();
    expect(await getBalance(ports, ana.id, 'cUSD', { verifyCritical: true })).toMatchObject({ amount: 25n * CUSD, source: 'chain' });
    const transfer = await outsider.transfer(ana.address, 5n * CUSD);
    await until(async () => (await pool.query('select 1 from payment_transactions where transaction_id = $1', [transfer.transactionHash])).rowCount, 'the poller recording the transfer', 60_000);
    await pool.query('delete from payment_transactions where transaction_id = $1', [transfer.transactionHash]);
    await pool.query('update payment_balances set stale = false where account_id = $1', [ana.id]);
    expect(await cachedBalance(pool, ana.id, 'cUSD')).toMatchObject({ amount: 25n * CUSD, stale: false });

    // The next minute's tick compares every balance with the chain: a drift row, a warn line, the cache repaired.
    const drift = await until(async () => (await pool.query<{ cached: string; on_chain: string; height: string }>('select cached::text, on_chain::text, height::text from payment_balance_drifts where account_id = $1', [ana.id])).rows[0], 'the scheduled reconcile finding the drift', 75_000);
    expect(drift).toMatchObject({ cached: String(25n * CUSD), on_chain: String(30n * CUSD) });
    expect(BigInt(drift.height)).toBeGreaterThanOrEqual(transfer.blockNumber);
    expect(await cachedBalance(pool, ana.id, 'cUSD')).toMatchObject({ amount: 30n * CUSD, stale: false, height: BigInt(drift.height) });
    await until(() => info.mock.calls.some(([fields]) => (fields as { task?: string } | undefined)?.task === RECONCILE_TASK), 'the reconcile task logging its run', 10_000);
    expect(warn.mock.calls.filter(([fields]) => (fields as { task?: string } | undefined)?.task === RECONCILE_TASK)).toEqual([
      [expect.objectContaining({ accountId: ana.id, cached: String(25n * CUSD), onChain: String(30n * CUSD) }), expect.stringContaining('drift')],
    ]);
  }, 150_000);
});
