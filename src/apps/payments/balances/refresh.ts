import { inTransaction } from '../../../engine/index.js';
import { CUSD } from '../settings.js';
import { recordChainRead } from './cache.js';
import type { BalanceTaskPorts } from './ports.js';
import { BATCH, eachChain, progressLog, type RunOptions, type Target } from './runs.js';

/** Seed 004's `refresh_stale_balances` (every 5 minutes by default). */
export const REFRESH_TASK = 'payments.refreshStale';

/**
 * Reads every stale balance (of active accounts) from the chain and stores it
 * fresh, a batch at a time: the batch's rows are locked while their chain read
 * is stored, so something marking one stale meanwhile (the poller, a settled
 * send) waits and leaves it stale, never overwritten by a read from before it.
 * A chain that cannot be read leaves its rows stale for the next run; the
 * others go on.
 */
export async function refreshStale(ports: BalanceTaskPorts, options: RunOptions = {}): Promise<{ refreshed: number; failed: number }> {
  const token = CUSD.symbol;
  const progress = progressLog(ports, REFRESH_TASK);
  let refreshed = 0;
  let failed = 0;
  // Keyset pagination: a row that fails stays stale and is not read again in this run.
  for (let after = '0'; ; ) {
    const rows = await inTransaction(ports.pool, async (client) => {
      const { rows } = await client.query<Target>(
        `select b.account_id::text as "accountId", a.chain, a.address from payment_balances b join payment_accounts a on a.id = b.account_id
         where b.stale and a.active and b.token = $1 and b.account_id > $2 order by b.account_id limit $3 for update of b`,
        [token, after, options.batchSize ?? BATCH],
      );
      await eachChain(ports, rows, async (targets, read) => {
        for (const [i, target] of targets.entries()) await recordChainRead(client, target.accountId, token, { amount: read.amounts[i]!, height: read.height, readAt: read.readAt });
        refreshed += targets.length;
      }, (targets) => (failed += targets.length));
      return rows;
    });
    if (rows.length === 0) break;
    after = rows.at(-1)!.accountId;
    progress({ refreshed, failed });
  }
  if (refreshed + failed > 0) ports.logger.info({ task: REFRESH_TASK, refreshed, failed }, 'stale balances refreshed from the chain');
  return { refreshed, failed };
}
