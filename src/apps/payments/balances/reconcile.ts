import type pg from 'pg';
import { inTransaction, type ChainKey } from '../../../engine/index.js';
import { CUSD } from '../settings.js';
import { lockBalances, recordChainRead, type CachedBalance } from './cache.js';
import { balanceDrifts } from './metrics.js';
import type { BalanceTaskPorts } from './ports.js';
import { BATCH, eachChain, progressLog, type RunOptions, type Target } from './runs.js';

/** Seed 004's `reconcile_all_balances` (hourly by default). */
export const RECONCILE_TASK = 'payments.reconcile';

/** How long a run waits by default for the poller to reach the height of a read it must judge: normally a block or two. */
const POLLER_WAIT_MS = 30_000;
const POLLER_CHECK_MS = 200;

type Db = Pick<pg.ClientBase, 'query'>;

interface Drift extends Target {
  token: string;
  cached: bigint;
  onChain: bigint;
  height: bigint;
}

/** A fresh row that differed from a chain read that may hold blocks the poller had not processed yet. */
interface Undecided extends Target {
  row: CachedBalance;
  onChain: bigint;
  height: bigint;
  /** The head read just after the amounts: the poller must have processed it before the difference is judged. */
  upTo: bigint;
  readAt: Date;
}

export interface ReconcileOptions extends RunOptions {
  /** How long to wait for the poller to pass a read before leaving its differences to the next run (default 30 s). */
  pollerWaitMs?: number;
}

export interface ReconcileResult {
  checked: number;
  drifts: number;
  /** Differences left for the next run: the poller did not reach the height read within the wait (it lags, or is down). */
  undecided: number;
  failed: number;
}

/**
 * Reads every active account's balance from the chain, a batch at a time with
 * the batch's rows locked (rows missing are created). Where the cache held an
 * amount as fresh (not stale, nothing in flight) and the chain says otherwise,
 * at a height the poller has processed, that is a drift: the cache missed a
 * movement. Each drift is recorded (payment_balance_drifts), counted (metric
 * ledgersync_payments_balance_drift_total) and logged, and the cache repaired.
 * A difference the cache already knows of (stale: a transaction was seen;
 * pending: a send in flight) is not a drift, only refreshed.
 *
 * The amounts are read at the latest block, which the poller has often not
 * processed yet (it follows the head a poll behind). Such a difference is not
 * judged in the batch's transaction (the poller, marking a row stale, would wait
 * on its lock): once committed, the run waits for the poller to pass the read,
 * then judges each row still as it was read against. Left fresh and untouched by
 * a poller that went past every block the read may reflect, it missed a movement.
 */
export async function reconcileBalances(ports: BalanceTaskPorts, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const progress = progressLog(ports, RECONCILE_TASK);
  const result: ReconcileResult = { checked: 0, drifts: 0, undecided: 0, failed: 0 };
  // Chains whose poller did not catch up within the wait: not waited for again in this run.
  const behind = new Set<ChainKey>();
  for (let after = '0'; ; ) {
    const { rows } = await ports.pool.query<Target>(
      `select id::text as "accountId", chain, address from payment_accounts where active and id > $1 order by id limit $2`,
      [after, options.batchSize ?? BATCH],
    );
    if (rows.length === 0) break;
    after = rows.at(-1)!.accountId;
    const compared = await inTransaction(ports.pool, (client) => compareBatch(ports, client, rows, (n) => (result.failed += n)));
    report(ports, compared.drifts);
    const judged = await judgeOncePolled(ports, compared.undecided, behind, options.pollerWaitMs ?? POLLER_WAIT_MS);
    report(ports, judged.drifts);
    result.checked += compared.checked;
    result.drifts += compared.drifts.length + judged.drifts.length;
    result.undecided += judged.left;
    progress({ ...result });
  }
  ports.logger.info({ task: RECONCILE_TASK, ...result }, 'balances reconciled with the chain');
  return result;
}

/** One batch, its rows locked: reads the chain, records the drifts it can judge now, refreshes the rest. */
async function compareBatch(ports: BalanceTaskPorts, client: pg.PoolClient, targets: Target[], failed: (n: number) => void) {
  const token = CUSD.symbol;
  const cached = await lockBalances(client, targets.map((t) => t.accountId), token);
  const drifts: Drift[] = [];
  const undecided: Undecided[] = [];
  let checked = 0;
  await eachChain(
    ports,
    targets,
    async (group, read) => {
      const polled = await polledUpTo(client, group[0]!.chain);
      for (const [i, target] of group.entries()) {
        const row = cached.get(target.accountId)!;
        const onChain = read.amounts[i]!;
        // A node behind the height the cache holds says nothing about it.
        if (row.height !== null && read.height < row.height) continue;
        if (isFresh(row) && row.amount !== onChain) {
          // Without a poller there is nothing to judge against.
          if (polled === null) continue;
          if (polled < read.upTo!) {
            undecided.push({ ...target, row, onChain, height: read.height, upTo: read.upTo!, readAt: read.readAt });
            continue;
          }
          drifts.push(await recordDrift(client, { ...target, token, cached: row.amount, onChain, height: read.height }));
        }
        await recordChainRead(client, target.accountId, token, { amount: onChain, height: read.height, readAt: read.readAt });
      }
      checked += group.length;
    },
    (group) => failed(group.length),
    { upTo: true },
  );
  return { drifts, undecided, checked };
}

/**
 * The differences a batch could not judge, once the poller of their chain has
 * processed every block their read may reflect: a row it left untouched (still
 * fresh, same amount and height) missed a movement; a row that moved meanwhile
 * (marked stale, read again) is no longer ours to judge.
 */
async function judgeOncePolled(ports: BalanceTaskPorts, undecided: Undecided[], behind: Set<ChainKey>, waitMs: number): Promise<{ drifts: Drift[]; left: number }> {
  const token = CUSD.symbol;
  const drifts: Drift[] = [];
  let left = 0;
  for (const chain of new Set(undecided.map((u) => u.chain))) {
    const group = undecided.filter((u) => u.chain === chain);
    const upTo = group.reduce((max, u) => (u.upTo > max ? u.upTo : max), 0n);
    if (behind.has(chain) || !(await pollerReaches(ports.pool, chain, upTo, waitMs))) {
      behind.add(chain);
      left += group.length;
      continue;
    }
    const judged = await inTransaction(ports.pool, async (client) => {
      const now = await lockBalances(client, group.map((u) => u.accountId), token);
      const found: Drift[] = [];
      for (const u of group) {
        if (!sameRead(now.get(u.accountId)!, u.row)) continue;
        found.push(await recordDrift(client, { ...u, token, cached: u.row.amount }));
        await recordChainRead(client, u.accountId, token, { amount: u.onChain, height: u.height, readAt: u.readAt });
      }
      return found;
    });
    drifts.push(...judged);
  }
  return { drifts, left };
}

/** Read from the chain, not marked stale since, nothing in flight: the cache claims this amount is the chain's. */
const isFresh = (row: CachedBalance) => row.height !== null && !row.stale && row.pendingOut === 0n && row.pendingIn === 0n;

/** The row is still the one a read was compared with. */
const sameRead = (now: CachedBalance, then: CachedBalance) =>
  isFresh(now) && now.amount === then.amount && now.height === then.height && now.lastSynced?.getTime() === then.lastSynced?.getTime();

async function recordDrift(client: Db, drift: Drift): Promise<Drift> {
  await client.query(`insert into payment_balance_drifts (account_id, token, cached, on_chain, height) values ($1, $2, $3, $4, $5)`, [
    drift.accountId,
    drift.token,
    drift.cached.toString(),
    drift.onChain.toString(),
    drift.height,
  ]);
  return drift;
}

/** Counted and logged once committed. */
function report(ports: BalanceTaskPorts, drifts: Drift[]): void {
  for (const drift of drifts) {
    balanceDrifts.inc({ chain: drift.chain, token: drift.token });
    ports.logger.warn(
      { task: RECONCILE_TASK, accountId: drift.accountId, chain: drift.chain, address: drift.address, token: drift.token, cached: drift.cached.toString(), onChain: drift.onChain.toString(), height: drift.height.toString() },
      'payments balance drift: the cache differed from the chain; repaired',
    );
  }
}

/** How far the poller (the engine's indexer) has processed a chain; null if it never ran there. */
async function polledUpTo(db: Db, chain: ChainKey): Promise<bigint | null> {
  const { rows } = await db.query<{ block_number: string }>('select block_number::text from indexer_checkpoints where chain = $1', [chain]);
  return rows[0] ? BigInt(rows[0].block_number) : null;
}

/** Waits, outside any transaction, for the poller to have processed `height`; false after `waitMs`. */
async function pollerReaches(db: Db, chain: ChainKey, height: bigint, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const polled = await polledUpTo(db, chain);
    if (polled !== null && polled >= height) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLLER_CHECK_MS));
  }
}
