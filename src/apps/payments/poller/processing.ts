import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { inTransaction, journalAgainstBlock, type ChainKey, type Logger } from '../../../engine/index.js';
import { writeRecords, type Db } from './records.js';
import { moveBytesText } from './handlers/args.js';
import { EVM_P2P_SOURCE, SUI_SOURCE, type HandlerName, type PaymentHandler, type PaymentTx, type RawEvent, type RecordDraft, type Trade, type TradeBook } from './types.js';

/** The graphile-worker task that runs a failed handler again from the raw row. */
export const PROCESS_TASK = 'payments.process';
/** A failed handler's first retry waits this long (a transient cause: a lock, a deploy); then graphile-worker's backoff. */
export const RETRY_DELAY_SECONDS = 5;
export const RETRY_MAX_ATTEMPTS = 10;

export type Outcome = 'processed' | 'nothing' | 'failed';

/** One handler's run on one transaction, as payment_processing_log keeps it. */
export interface HandlerRun {
  tx: PaymentTx;
  handler: HandlerName;
  outcome: Outcome;
  error: string | null;
  durationMs: number;
  records: number;
}

/** The handlers of a chain, in the order they run (p2p before cusd: transfers leave out what escrow steps explain). */
export type HandlersOf = (chain: ChainKey) => PaymentHandler[];

/**
 * Runs the handlers on transactions (in chain order) and writes their records,
 * each handler's work apart: a handler that throws, or whose records the
 * database refuses, is rolled back alone and logged `failed`; the others' stand.
 * Fast path: every handler's records in one savepoint and one set of statements;
 * only if that fails, each (transaction, handler) again in a savepoint of its own.
 * Every run is logged (attempt = earlier runs of that handler on that transaction + 1);
 * with `retries: 'queue'`, a `payments.process` job per failed run, in this same transaction.
 * `live: false` (a reindex) leaves the subscription feed out.
 */
export async function processTransactions(
  db: Db,
  txs: PaymentTx[],
  handlersOf: HandlersOf,
  options: { only?: HandlerName[]; retries: 'queue' | 'none'; live?: boolean },
): Promise<HandlerRun[]> {
  const live = options.live ?? true;
  const runs: Array<HandlerRun & { drafts?: RecordDraft[] }> = [];
  for (const [chain, ofChain] of groupBy(txs, (tx) => tx.chain)) {
    const trades = await loadTrades(db, chain, ofChain);
    for (const tx of ofChain) {
      for (const handler of handlersOf(chain)) {
        if (options.only && !options.only.includes(handler.name)) continue;
        const started = performance.now();
        try {
          const drafts = handler.derive(tx, { trades });
          runs.push({ tx, handler: handler.name, outcome: drafts.length > 0 ? 'processed' : 'nothing', error: null, durationMs: performance.now() - started, records: 0, drafts });
        } catch (error) {
          runs.push({ tx, handler: handler.name, outcome: 'failed', error: describe(error), durationMs: performance.now() - started, records: 0 });
        }
      }
    }
  }

  const writing = runs.filter((r) => r.drafts && r.drafts.length > 0);
  if (writing.length > 0) {
    const started = performance.now();
    await db.query('savepoint payments_batch');
    try {
      await writeRecords(db, writing.map((r) => ({ tx: r.tx, drafts: r.drafts! })), { live });
      await db.query('release savepoint payments_batch');
      const share = (performance.now() - started) / writing.length;
      for (const run of writing) run.durationMs += share;
    } catch {
      await db.query('rollback to savepoint payments_batch');
      await db.query('release savepoint payments_batch');
      for (const run of writing) await writeAlone(db, run, live);
    }
  }

  await logRuns(db, runs);
  const failed = runs.filter((r) => r.outcome === 'failed');
  if (options.retries === 'queue' && failed.length > 0) await queueRetries(db, failed);
  return runs.map(({ drafts: _drafts, ...run }) => run);
}

async function writeAlone(db: Db, run: HandlerRun & { drafts?: RecordDraft[] }, live: boolean): Promise<void> {
  const started = performance.now();
  await db.query('savepoint payments_handler');
  try {
    await writeRecords(db, [{ tx: run.tx, drafts: run.drafts! }], { live });
    await db.query('release savepoint payments_handler');
  } catch (error) {
    await db.query('rollback to savepoint payments_handler');
    await db.query('release savepoint payments_handler');
    run.outcome = 'failed';
    run.error = describe(error);
  }
  run.durationMs += performance.now() - started;
}

async function logRuns(db: Db, runs: HandlerRun[]): Promise<void> {
  if (runs.length === 0) return;
  await db.query(
    `insert into payment_processing_log (chain, transaction_id, handler, outcome, error, duration_ms, attempt)
     select l.chain, l.transaction_id, l.handler, l.outcome, l.error, l.duration_ms,
            1 + (select count(*) from payment_processing_log p where p.chain = l.chain and p.transaction_id = l.transaction_id and p.handler = l.handler)::integer
     from jsonb_to_recordset($1::jsonb) as l(chain text, transaction_id text, handler text, outcome text, error text, duration_ms double precision)`,
    [JSON.stringify(runs.map((r) => ({ chain: r.tx.chain, transaction_id: r.tx.transactionId, handler: r.handler, outcome: r.outcome, error: r.error, duration_ms: r.durationMs })))],
  );
}

/** One job per failed (transaction, handler): its key makes a second failure reschedule it rather than add another. */
async function queueRetries(db: Db, failed: HandlerRun[]): Promise<void> {
  await db.query(
    `select graphile_worker.add_job($1, json_build_object('chain', j.chain, 'transactionId', j.transaction_id, 'handler', j.handler),
              run_at := now() + make_interval(secs => $2), max_attempts := $3, job_key := $1 || ':' || j.chain || ':' || j.transaction_id || ':' || j.handler)
     from jsonb_to_recordset($4::jsonb) as j(chain text, transaction_id text, handler text)`,
    [PROCESS_TASK, RETRY_DELAY_SECONDS, RETRY_MAX_ATTEMPTS, JSON.stringify(failed.map((r) => ({ chain: r.tx.chain, transaction_id: r.tx.transactionId, handler: r.handler })))],
  );
}

/**
 * The trades these transactions' escrow steps refer to, as their earlier records
 * describe them (creation: seller, buyer on EVM, amount; Sui's TradeAccepted: the buyer).
 * Records made earlier in the same batch are added by the handlers as they go.
 */
async function loadTrades(db: Db, chain: ChainKey, txs: PaymentTx[]): Promise<TradeBook> {
  const book = new Map<string, Trade>();
  const ids = [...new Set(txs.flatMap((tx) => tx.events.flatMap(tradeIdOf)))];
  if (ids.length > 0) {
    const { rows } = await db.query<{ kind: string; reference: string; sender_address: string | null; recipient_address: string | null; amount: string; token: string }>(
      `select kind, reference, sender_address, recipient_address, amount::text, token from payment_transactions
       where chain = $1 and reference = any($2::text[]) and kind in ('escrow_created', 'escrow_paid') order by block_number, event_index`,
      [chain, ids],
    );
    for (const row of rows) {
      const known = book.get(row.reference);
      if (row.kind === 'escrow_created') book.set(row.reference, { seller: row.sender_address, buyer: row.recipient_address, amount: BigInt(row.amount), token: row.token });
      else if (known && !known.buyer) known.buyer = row.sender_address;
    }
  }
  return { get: (reference) => book.get(reference), set: (reference, trade) => void book.set(reference, trade) };
}

function tradeIdOf(event: RawEvent): string[] {
  try {
    if (event.source === EVM_P2P_SOURCE && typeof event.args.tradeId === 'string') return [event.args.tradeId.toLowerCase()];
    if (event.source === SUI_SOURCE && event.args.trade_id !== undefined) return [moveBytesText(event.args, 'trade_id')];
  } catch {
    // An unreadable id: its handler says so when it runs.
  }
  return [];
}

/**
 * `payments.process` ({ chain, transactionId, handler }): runs again, from the raw
 * row, a handler whose last run on that transaction failed. Nothing to do when the
 * row is gone (a reorg took the transaction back) or the handler has succeeded
 * since (a replay). Its records are journaled against their block while that block
 * can still be reorganised, as the indexer's own are. A second failure is logged
 * and thrown, so graphile-worker tries again with its backoff.
 */
export function processTask(ports: { pool: pg.Pool; logger: Logger }, handlersOf: HandlersOf): Task {
  const logger = ports.logger.child({ task: PROCESS_TASK });
  return async (payload) => {
    const { chain, transactionId, handler } = payload as { chain?: unknown; transactionId?: unknown; handler?: unknown };
    if (typeof chain !== 'string' || typeof transactionId !== 'string') throw new Error(`${PROCESS_TASK}: the payload names no chain and transaction`);
    const runs = await inTransaction(ports.pool, async (client) => {
      const { rows } = await client.query<{ block_number: string; block_hash: string; block_timestamp: string; events: RawEvent[] }>(
        `select block_number::text, block_hash, block_timestamp::text, events from payment_raw_events where chain = $1 and transaction_id = $2 for update`,
        [chain, transactionId],
      );
      const raw = rows[0];
      if (!raw) {
        logger.info({ chain, transactionId }, 'transaction no longer kept (reorganised away): nothing to retry');
        return [];
      }
      const { rows: last } = await client.query<{ handler: HandlerName; outcome: Outcome }>(
        `select distinct on (handler) handler, outcome from payment_processing_log where chain = $1 and transaction_id = $2 order by handler, id desc`,
        [chain, transactionId],
      );
      const pending = last.filter((l) => l.outcome === 'failed' && (handler === undefined || l.handler === handler)).map((l) => l.handler);
      if (pending.length === 0) return [];
      await journalAgainstBlock(client, chain, { number: BigInt(raw.block_number), hash: raw.block_hash });
      const tx: PaymentTx = { chain, transactionId, blockNumber: BigInt(raw.block_number), blockHash: raw.block_hash, blockTimestamp: BigInt(raw.block_timestamp), events: raw.events };
      return processTransactions(client, [tx], handlersOf, { only: pending, retries: 'none' });
    });
    const failed = runs.filter((r) => r.outcome === 'failed');
    if (failed.length > 0) throw new Error(`${PROCESS_TASK}: ${chain} ${transactionId}: ${failed.map((r) => `${r.handler} failed again: ${r.error}`).join('; ')}`);
    for (const run of runs) logger.info({ chain, transactionId, handler: run.handler, outcome: run.outcome }, 'handler processed on retry');
  };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
