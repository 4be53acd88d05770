/**
 * Seed 004's schedules: the worker refreshes stale balances on its own, on the
 * app's crontab (here every minute, so the test waits at most one), and an
 * option turns a schedule off.
 */
import { describe, expect, it, vi } from 'vitest';
import { paymentsApp } from '../../../src/apps/payments/index.js';
import { RECONCILE_TASK, REFRESH_TASK } from '../../../src/apps/payments/balances/index.js';
import { cachedBalance } from '../../../src/apps/payments/balances/cache.js';
import { EVM_CHAIN, paymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';
import { earlyInAMinute } from './minute.js';
import { evmAccount } from './balance-ports.js';

const CUSD = 1_000_000n;

describe('payments schedules', () => {
  it('refresh stale balances every 5 minutes and reconcile hourly by default; null schedules nothing', () => {
    const chains = [{ family: 'evm' as const, chain: EVM_CHAIN }];
    expect(paymentsApp({ chains }).schedules).toEqual([
      { task: REFRESH_TASK, cron: '*/5 * * * *' },
      { task: RECONCILE_TASK, cron: '0 * * * *' },
    ]);
    expect(paymentsApp({ chains, refreshCron: '*/2 * * * *', reconcileCron: null }).schedules).toEqual([{ task: REFRESH_TASK, cron: '*/2 * * * *' }]);
    expect(paymentsApp({ chains, refreshCron: null, reconcileCron: null }).schedules).toEqual([]);
  });

  it('the worker refreshes a balance the poller marked stale, with no one asking', async () => {
    const world = await paymentsWorld({ extraEnv: { PAYMENTS_REFRESH_CRON: '* * * * *' } });
    await world.deploy();
    await world.start(['indexer', 'worker']);
    const pool = world.pool();
    const info = vi.spyOn(world.stack().logger, 'info');

    // Money arrives; the poller records it and marks the balance stale (never read yet: no height).
    // The mint goes out early in a minute, so the every-minute tick cannot fall between the
    // poller's mark and the check below (CI met exactly that once).
    const ana = await evmAccount(world, 'ana', { key: 1 });
    await earlyInAMinute();
    const mint = await world.mint(ana.address, 25n * CUSD);
    await until(async () => (await pool.query('select 1 from payment_transactions where transaction_id = $1', [mint.transactionHash])).rowCount, 'the poller recording the mint', 60_000);
    expect(await cachedBalance(pool, ana.id, 'cUSD')).toMatchObject({ stale: true, height: null });

    // The next minute's tick reads it from the chain.
    await until(async () => (await cachedBalance(pool, ana.id, 'cUSD'))?.stale === false, 'the scheduled refresh', 75_000);
    const refreshed = (await cachedBalance(pool, ana.id, 'cUSD'))!;
    expect(refreshed.amount).toBe(await world.balanceOf(ana.address));
    expect(refreshed.height!).toBeGreaterThanOrEqual(mint.blockNumber);
    // The task logs its count once its run is over, after the row was stored.
    await until(() => info.mock.calls.some(([fields]) => (fields as { task?: string } | undefined)?.task === REFRESH_TASK), 'the refresh task logging its run', 10_000);
  }, 150_000);
});
