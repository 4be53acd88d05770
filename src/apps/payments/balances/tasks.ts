import type pg from 'pg';
import type { Task } from 'graphile-worker';
import { inTransaction, type ChainKey, type TaskPorts } from '../../../engine/index.js';
import { CUSD, type PaymentsSettings } from '../settings.js';
import { lockBalances, recordChainRead } from './cache.js';
import { readChainBalances, type ChainBalances } from './chain.js';
import { balanceDrifts } from './metrics.js';
import type { BalanceTaskPorts } from './ports.js';

/** Seed 004's `refresh_stale_balances` (every 5 minutes by default) and `reconcile_all_balances` (hourly). */
export const REFRESH_TASK = 'payments.refreshStale';
export const RECONCILE_TASK = 'payments.reconcile';

/** Accounts per batch: one head read per chain and batch, then each balance at that head. */
const BATCH = 100;
/** At most one progress line this often on long runs. */
const PROGRESS_MS = 10_000;

export interface RunOptions {
  batchSize?: number;
}

export function balanceTasks(settings: PaymentsSettings) {
  return (ports: TaskPorts): Record<string, Task> => {
    const own: BalanceTaskPorts = { ...ports, settings };
    return {
      [REFRESH_TASK]: async () => void (await refreshStale(own)),
      [RECONCILE_TASK]: async () => void (await reconcileBalances(own)),
    };
  };
}

interface Target {
  accountId: string;
  chain: ChainKey;
  address: string;
}

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

interface Drift extends Target {
  token: string;
  cached: bigint;
  onChain: bigint;
  height: bigint;
}

/**
 * Reads every active account's balance from the chain, a batch at a time with
 * the batch's rows locked (rows missing are created). Where the cache held an
 * amount as fresh (not stale, nothing in flight) and the chain says otherwise
 * at the same or a later height, which the poller has processed, that is a
 * drift: the cache missed a movement.
 * Each drift is recorded (payment_balance_drifts), counted (metric
 * ledgersync_payments_balance_drift_total) and logged, and the cache repaired.
 * A difference the cache already knows of (stale: a transaction was seen;
 * pending: a send in flight) is not a drift, only refreshed.
 */
export async function reconcileBalances(ports: BalanceTaskPorts, options: RunOptions = {}): Promise<{ checked: number; drifts: number; failed: number }> {
  const token = CUSD.symbol;
  const progress = progressLog(ports, RECONCILE_TASK);
  let checked = 0;
  let drifts = 0;
  let failed = 0;
  for (let after = '0'; ; ) {
    const { rows } = await ports.pool.query<Target>(
      `select id::text as "accountId", chain, address from payment_accounts where active and id > $1 order by id limit $2`,
      [after, options.batchSize ?? BATCH],
    );
    if (rows.length === 0) break;
    after = rows.at(-1)!.accountId;
    const found = await inTransaction(ports.pool, async (client) => {
      const cached = await lockBalances(client, rows.map((r) => r.accountId), token);
      const found: Drift[] = [];
      await eachChain(ports, rows, async (targets, read) => {
        // A fresh row that differs from the chain is a drift only once the poller has processed the height read: a
        // payment in a block it has not reached yet (it lags, or was down) is not a miss. Such a row is left for the
        // poller to mark stale and for the next run to judge.
        const polled = await polledUpTo(client, targets[0]!.chain);
        const settled = polled !== null && polled >= read.height;
        for (const [i, target] of targets.entries()) {
          const row = cached.get(target.accountId)!;
          const onChain = read.amounts[i]!;
          // A node behind the height the cache holds says nothing about it.
          if (row.height !== null && read.height < row.height) continue;
          const fresh = row.height !== null && !row.stale && row.pendingOut === 0n && row.pendingIn === 0n;
          if (fresh && row.amount !== onChain && !settled) continue;
          if (fresh && row.amount !== onChain) {
            found.push({ ...target, token, cached: row.amount, onChain, height: read.height });
            await client.query(`insert into payment_balance_drifts (account_id, token, cached, on_chain, height) values ($1, $2, $3, $4, $5)`, [
              target.accountId,
              token,
              row.amount.toString(),
              onChain.toString(),
              read.height,
            ]);
          }
          await recordChainRead(client, target.accountId, token, { amount: onChain, height: read.height, readAt: read.readAt });
        }
        checked += targets.length;
      }, (targets) => (failed += targets.length));
      return found;
    });
    // Counted and logged once committed.
    for (const drift of found) {
      balanceDrifts.inc({ chain: drift.chain, token: drift.token });
      ports.logger.warn(
        { task: RECONCILE_TASK, accountId: drift.accountId, chain: drift.chain, address: drift.address, token: drift.token, cached: drift.cached.toString(), onChain: drift.onChain.toString(), height: drift.height.toString() },
        'payments balance drift: the cache differed from the chain; repaired',
      );
    }
    drifts += found.length;
    progress({ checked, drifts, failed });
  }
  ports.logger.info({ task: RECONCILE_TASK, checked, drifts, failed }, 'balances reconciled with the chain');
  return { checked, drifts, failed };
}

/** How far the poller (the engine's indexer) has processed a chain; null if it never ran there. */
async function polledUpTo(client: pg.ClientBase, chain: ChainKey): Promise<bigint | null> {
  const { rows } = await client.query<{ block_number: string }>('select block_number::text from indexer_checkpoints where chain = $1', [chain]);
  return rows[0] ? BigInt(rows[0].block_number) : null;
}

/** Reads each chain's share of a batch at one height; a chain that fails is logged and its targets reported to `failed`. */
async function eachChain(
  ports: BalanceTaskPorts,
  targets: Target[],
  done: (targets: Target[], read: ChainBalances) => Promise<void>,
  failed: (targets: Target[]) => void,
): Promise<void> {
  const byChain = new Map<ChainKey, Target[]>();
  for (const target of targets) byChain.set(target.chain, [...(byChain.get(target.chain) ?? []), target]);
  for (const [chain, group] of byChain) {
    let read: ChainBalances;
    try {
      read = await readChainBalances(ports, chain, group.map((t) => t.address));
    } catch (error) {
      ports.logger.warn({ chain, accounts: group.length, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 'cannot read balances from the chain; they stay as cached until the next run');
      failed(group);
      continue;
    }
    await done(group, read);
  }
}

/** A progress line at most every PROGRESS_MS: silent on short runs. */
function progressLog(ports: BalanceTaskPorts, task: string) {
  const started = Date.now();
  let last = started;
  return (counts: Record<string, number>) => {
    const now = Date.now();
    if (now - last < PROGRESS_MS) return;
    last = now;
    ports.logger.info({ task, ...counts, seconds: Math.round((now - started) / 1000) }, 'balances: still working');
  };
}
