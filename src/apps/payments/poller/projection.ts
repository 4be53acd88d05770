import type { ChainEvent, ChainKey, Projection } from '../../../engine/index.js';
import { chainOf, type PaymentsSettings } from '../settings.js';
import { evmCusdHandler, suiCusdHandler } from './handlers/cusd.js';
import { evmPayHandler, suiPayHandler } from './handlers/pay.js';
import { evmP2pHandler, suiP2pHandler } from './handlers/p2p.js';
import { coinType } from './handlers/args.js';
import { processTransactions, type HandlersOf } from './processing.js';
import type { Db } from './records.js';
import { PAYMENTS_EVENTS } from './sources.js';
import { SUI_SOURCE, type PaymentHandler, type PaymentTx, type RawEvent } from './types.js';

export const PAYMENTS_PROJECTION = 'payments';

/** Each chain's module handlers, in the order they run: pay, p2p (updates the trade book), then cusd (leaves out what those explain). */
export function paymentsHandlers(settings: Pick<PaymentsSettings, 'chains'>): HandlersOf {
  const byChain = new Map<ChainKey, PaymentHandler[]>();
  return (chain) => {
    let handlers = byChain.get(chain);
    if (!handlers) {
      const c = chainOf(settings, chain);
      handlers = c.family === 'evm' ? [evmPayHandler, evmP2pHandler, evmCusdHandler] : [suiPayHandler(c.packages.pay), suiP2pHandler(c.packages.p2pTrade, c.cusdType), suiCusdHandler(c)];
      byChain.set(chain, handlers);
    }
    return handlers;
  };
}

/**
 * The poller's projection: per transaction (events grouped in chain order), the
 * raw row (payment_raw_events), then the module handlers' records
 * (payment_transactions), each handler apart (processing.ts). Both tables are
 * journaled for reorgs and rebuilt by `ledgersync reindex payments`; the
 * processing log and the notifications are not projection tables, so a replay
 * appends to the log and never pushes twice; nor does it tell the subscription
 * feed of payments that are not news.
 */
export function paymentsProjection(settings: Pick<PaymentsSettings, 'chains'>): Projection {
  const handlersOf = paymentsHandlers(settings);
  return {
    name: PAYMENTS_PROJECTION,
    tables: ['payment_raw_events', 'payment_transactions'],
    events: PAYMENTS_EVENTS,
    async apply(events, store) {
      const txs = groupByTransaction(events).filter((tx) => relevant(settings, tx));
      if (txs.length === 0) return;
      const complete = await storeRawEvents(store, txs);
      await processTransactions(store, complete, handlersOf, { retries: 'queue', live: !store.replaying });
    },
  };
}

/** The events of each transaction, transactions in chain order. */
export function groupByTransaction(events: ChainEvent[]): PaymentTx[] {
  const txs = new Map<string, PaymentTx>();
  for (const e of events) {
    const key = `${e.chain}\n${e.transactionId}`;
    let tx = txs.get(key);
    if (!tx) {
      tx = { chain: e.chain, transactionId: e.transactionId, blockNumber: e.blockNumber, blockHash: e.blockHash, blockTimestamp: e.blockTimestamp, events: [] };
      txs.set(key, tx);
    }
    tx.events.push({ source: e.source, name: e.name, emitter: e.emitter, eventIndex: e.eventIndex, args: e.args });
  }
  return [...txs.values()];
}

/**
 * A Sui transaction is kept for its Transaction item whenever one of our accounts
 * sent it; it matters here only with a Confío event or a cUSD balance change (not
 * for its gas alone). Every EVM event the sources give matters.
 */
function relevant(settings: Pick<PaymentsSettings, 'chains'>, tx: PaymentTx): boolean {
  const chain = settings.chains.find((c) => c.chain === tx.chain);
  if (chain?.family !== 'sui') return true;
  const cusd = coinType(chain.cusdType);
  return tx.events.some((e) => e.source === SUI_SOURCE && e.name !== 'Transaction' && (e.name !== 'BalanceChange' || coinType(e.args.coinType) === cusd));
}

/**
 * The raw rows, several at once. A transaction already kept (a reindex reads the
 * stored events in pages, which may cut a transaction in two) gets the events it
 * lacked added, its records are dropped, and it is processed again whole: its
 * records are a function of all its events. Returns the transactions with all their events.
 */
async function storeRawEvents(store: Db, txs: PaymentTx[]): Promise<PaymentTx[]> {
  const out: PaymentTx[] = [];
  for (const chain of new Set(txs.map((tx) => tx.chain))) {
    const ofChain = txs.filter((tx) => tx.chain === chain);
    const { rows: existing } = await store.query<{ transaction_id: string; events: RawEvent[] }>(
      'select transaction_id, events from payment_raw_events where chain = $1 and transaction_id = any($2::text[])',
      [chain, ofChain.map((tx) => tx.transactionId)],
    );
    const kept = new Map(existing.map((row) => [row.transaction_id, row.events]));
    const fresh = ofChain.filter((tx) => !kept.has(tx.transactionId));
    const merged = ofChain.filter((tx) => kept.has(tx.transactionId)).map((tx) => ({ ...tx, events: mergeEvents(kept.get(tx.transactionId)!, tx.events) }));
    if (fresh.length > 0) {
      await store.query(
        `insert into payment_raw_events (chain, transaction_id, block_number, block_hash, block_timestamp, events)
         select x.chain, x.transaction_id, x.block_number, x.block_hash, x.block_timestamp, x.events
         from jsonb_to_recordset($1::jsonb) as x(chain text, transaction_id text, block_number bigint, block_hash text, block_timestamp bigint, events jsonb)`,
        [JSON.stringify(fresh.map((tx) => ({ chain, transaction_id: tx.transactionId, block_number: tx.blockNumber.toString(), block_hash: tx.blockHash, block_timestamp: tx.blockTimestamp.toString(), events: tx.events })))],
      );
    }
    if (merged.length > 0) {
      await store.query(
        `update payment_raw_events r set events = x.events
         from jsonb_to_recordset($2::jsonb) as x(transaction_id text, events jsonb)
         where r.chain = $1 and r.transaction_id = x.transaction_id`,
        [chain, JSON.stringify(merged.map((tx) => ({ transaction_id: tx.transactionId, events: tx.events })))],
      );
      await store.query('delete from payment_transactions where chain = $1 and transaction_id = any($2::text[])', [chain, merged.map((tx) => tx.transactionId)]);
    }
    const whole = new Map([...fresh, ...merged].map((tx) => [tx.transactionId, tx]));
    out.push(...ofChain.map((tx) => whole.get(tx.transactionId)!));
  }
  return out;
}

function mergeEvents(before: RawEvent[], added: RawEvent[]): RawEvent[] {
  const byIndex = new Map(before.map((e) => [`${e.source}:${e.eventIndex}`, e]));
  for (const e of added) byIndex.set(`${e.source}:${e.eventIndex}`, e);
  return [...byIndex.values()].sort((a, b) => a.eventIndex - b.eventIndex);
}
