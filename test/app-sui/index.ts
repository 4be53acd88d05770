/**
 * The engine's neutral Sui test app: what the Confío poller needs of a Sui
 * indexer, on the Sui simulator (docs/sui-simulator.md). One source follows a
 * Move package (the simulator's `payments` module), another the addresses of an
 * address set (`wallets`); projections keep the transactions they kept, the
 * package's PaymentSent events, and per followed address and coin type the sum
 * of its balance changes. Made for the engine's Sui tests, so that they depend
 * on no product app.
 */
import { suiSource, type ChainEvent, type ChainKey, type LedgersyncApp, type Projection } from '../../src/engine/index.js';

/** The address set whose members' transactions the `wallets` source keeps. */
export const WALLETS = 'wallets';

/** Kept transactions, one row per digest, with the sources that kept it (both, when a wallet pays through the package). */
export const transactionsProjection: Projection = {
  name: 'sui_transactions',
  tables: ['sui_transactions'],
  events: ['payments.Transaction', 'wallets.Transaction'],
  async apply(events, store) {
    // One statement cannot touch a row twice: fold the batch per digest first.
    const byDigest = new Map<string, { event: ChainEvent; sources: Set<string> }>();
    for (const e of events) {
      const entry = byDigest.get(e.transactionId) ?? { event: e, sources: new Set<string>() };
      entry.sources.add(e.source);
      byDigest.set(e.transactionId, entry);
    }
    const rows = [...byDigest.values()];
    await store.query(
      `insert into sui_transactions (chain, digest, checkpoint, tx_index, sender, success, error, sources)
       select chain, digest, checkpoint, tx_index, sender, success, error, string_to_array(sources, ',')
       from unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::bool[], $7::text[], $8::text[])
         as u(chain, digest, checkpoint, tx_index, sender, success, error, sources)
       on conflict (chain, digest) do update
         set sources = array(select distinct s from unnest(sui_transactions.sources || excluded.sources) as s order by s)`,
      [
        rows.map((r) => r.event.chain),
        rows.map((r) => r.event.transactionId),
        rows.map((r) => r.event.blockNumber.toString()),
        rows.map((r) => r.event.transactionIndex),
        rows.map((r) => String(r.event.args.sender)),
        rows.map((r) => r.event.args.success === true),
        rows.map((r) => (r.event.args.error === null ? null : String(r.event.args.error))),
        rows.map((r) => [...r.sources].sort().join(',')),
      ],
    );
  },
};

/** The package's payments, one row per PaymentSent event. */
export const paymentsProjection: Projection = {
  name: 'sui_payments',
  tables: ['sui_payments'],
  events: ['payments.PaymentSent'],
  async apply(events, store) {
    await store.copy(
      'sui_payments',
      ['chain', 'digest', 'event_index', 'checkpoint', 'payer', 'recipient', 'amount', 'coin_type', 'memo'],
      events.map((e) => [e.chain, e.transactionId, e.eventIndex, e.blockNumber, String(e.args.payer), String(e.args.recipient), String(e.args.amount), String(e.args.coin_type), String(e.args.memo)]),
    );
  },
};

/** The followed addresses' balance changes, summed per address and coin type. */
export const balancesProjection: Projection = {
  name: 'sui_balances',
  tables: ['sui_balances'],
  events: ['wallets.BalanceChange'],
  async apply(events, store) {
    const sums = new Map<string, { chain: string; address: string; coinType: string; amount: bigint; changes: number; last: bigint }>();
    for (const e of events) {
      const key = `${e.chain} ${String(e.args.address)} ${String(e.args.coinType)}`;
      const entry = sums.get(key) ?? { chain: e.chain, address: String(e.args.address), coinType: String(e.args.coinType), amount: 0n, changes: 0, last: 0n };
      entry.amount += BigInt(String(e.args.amount));
      entry.changes += 1;
      entry.last = e.blockNumber;
      sums.set(key, entry);
    }
    const rows = [...sums.values()];
    await store.query(
      `insert into sui_balances (chain, address, coin_type, balance, changes, last_checkpoint)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::int[], $6::bigint[])
       on conflict (chain, address, coin_type) do update
         set balance = sui_balances.balance + excluded.balance, changes = sui_balances.changes + excluded.changes, last_checkpoint = excluded.last_checkpoint`,
      [rows.map((r) => r.chain), rows.map((r) => r.address), rows.map((r) => r.coinType), rows.map((r) => r.amount.toString()), rows.map((r) => r.changes), rows.map((r) => r.last.toString())],
    );
  },
};

export interface SuiTestOptions {
  chain: ChainKey;
  /** The packages whose `payments` module the `payments` source follows. */
  packages: string[];
  startCheckpoint?: bigint;
}

export function suiTestApp(options: SuiTestOptions): LedgersyncApp {
  const { chain, packages } = options;
  const startCheckpoint = options.startCheckpoint ?? 0n;
  return {
    name: 'sui_test',
    migrations: 'test/app-sui/migrations',
    sources: [suiSource({ name: 'payments', chain, packages, startCheckpoint }), suiSource({ name: 'wallets', chain, addressSet: WALLETS, startCheckpoint })],
    projections: [transactionsProjection, paymentsProjection, balancesProjection],
  };
}

/** The Sui test app's tables, for test databases it is indexed into. */
export const suiTestMigrations = [{ name: 'sui_test', migrations: 'test/app-sui/migrations' }];
