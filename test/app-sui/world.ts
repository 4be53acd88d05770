/**
 * What the Sui tests share: a simulator with the payments package and some
 * wallets, the Sui test app indexed in process or by the CLI, and what an index
 * of it must hold, derived from the simulator's ground truth (`ledger.truth`).
 */
import { onTestFinished } from 'vitest';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeStructTag, normalizeSuiAddress, toHex } from '@mysten/sui/utils';
import { startSuiSimulator, type SuiSimulator, type SuiSimulatorOptions } from '../../src/chain/sui/simulator/index.js';
import type { SuiLedger } from '../../src/chain/sui/simulator/ledger.js';
import { connectSuiChain, type SuiChain } from '../../src/chain/sui/chain.js';
import type { SuiChainConfig } from '../../src/config/chains.js';
import { startIndexer, type RunningIndexer } from '../../src/core/indexer/indexer.js';
import { createLogger, type Logger } from '../../src/runtime/logger.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { CLI_WITH_TS_CONFIG } from '../harness/cli.js';
import { suiTestApp, WALLETS } from './index.js';

export const SUI_CHAIN = 'sui:localnet-sim';
/** The deployment of the Sui test app alone, for the CLI. */
export const SUI_CONFIG = join(packageRoot, 'test', 'app-sui', 'ledgersync.config.ts');
export const SUI_CLI = CLI_WITH_TS_CONFIG;

/** A simulator (closed when the test ends) and wallets to follow. */
export async function suiWorld(options: SuiSimulatorOptions & { wallets?: number } = {}): Promise<{ sim: SuiSimulator; ledger: SuiLedger; packageId: string; wallets: string[] }> {
  const sim = await startSuiSimulator({ seed: 7, ...options });
  onTestFinished(() => sim.close());
  const wallets = Array.from({ length: options.wallets ?? 3 }, () => normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`));
  return { sim, ledger: sim.ledger, packageId: sim.ledger.packageId, wallets };
}

/** The environment of a `ledgersync` child indexing the Sui test app from the simulator at `url`. */
export function suiCliEnv(databaseUrl: string, url: string, packageId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, SUI_URL: url, SUI_PACKAGE: packageId, LEDGERSYNC_CONFIG: SUI_CONFIG, LOG_LEVEL: 'warn', ...extra };
}

export async function addWallets(pool: pg.Pool, addresses: string[]): Promise<void> {
  await pool.query('insert into address_sets (name, address) select $1, unnest($2::text[])', [WALLETS, addresses]);
}

export async function removeWallets(pool: pg.Pool, addresses: string[]): Promise<void> {
  await pool.query('delete from address_sets where name = $1 and address = any($2)', [WALLETS, addresses]);
}

/** The simulator at `url` as the engine connects to a Sui chain (its gRPC calls counted by `chain.conn.meter`). */
export function connectSimulator(url: string, logger: Logger = createLogger('silent')): Promise<SuiChain> {
  const config: SuiChainConfig = {
    family: 'sui',
    key: SUI_CHAIN,
    endpoint: { kind: 'grpc', url },
    pollIntervalMs: 100,
    batchCheckpoints: 500,
    batchTransactions: 5000,
    signers: [],
    gas: { budget: 50_000_000n, poolSize: 1 },
  };
  return connectSuiChain(config, url, logger);
}

/** The Sui test app indexed in this process, through a chain of its own. */
export async function indexSui(url: string, pool: pg.Pool, packageId: string, options: { logger?: Logger } = {}): Promise<{ chain: SuiChain; indexer: RunningIndexer; stop(): Promise<void> }> {
  const logger = options.logger ?? createLogger('silent');
  const chain = await connectSimulator(url, logger);
  const app = suiTestApp({ chain: chain.key, packages: [packageId] });
  const indexer = await startIndexer(chain, pool, app.sources!, app.projections!, { pollIntervalMs: 100 }, logger);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await indexer.stop();
    await chain.close();
  };
  onTestFinished(stop);
  return { chain, indexer, stop };
}

/** The checkpoint the indexer stands at, or undefined before it made one (or before the tables exist). */
export async function checkpointOf(pool: pg.Pool): Promise<bigint | undefined> {
  try {
    const { rows } = await pool.query<{ block_number: string }>('select block_number::text from indexer_checkpoints where chain = $1', [SUI_CHAIN]);
    return rows[0] ? BigInt(rows[0].block_number) : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return undefined; // not migrated yet
    throw error;
  }
}

/**
 * What the wallets source followed over which checkpoints: the address set's
 * members from `from` to `to`. A member added while the indexer ran counts from
 * the first checkpoint decoded after the change committed.
 */
export interface Following {
  from: number;
  to: number;
  addresses: string[];
}

/** One stored item (raw event) in a form both the database and the truth give. */
export interface IndexedItem {
  source: string;
  checkpoint: number;
  digest: string;
  /** Its position among every item of the checkpoint (engine's event index). */
  position: number;
  name: string;
  /** Transaction: sender and status; Move event: type and BCS; balance change: address, coin type, amount. */
  detail: string;
}

export interface SuiIndex {
  items: IndexedItem[];
  transactions: Array<{ digest: string; checkpoint: number; txIndex: number; sender: string; success: boolean; sources: string[] }>;
  payments: Array<{ digest: string; position: number; checkpoint: number; payer: string; recipient: string; amount: string; coinType: string; memo: string }>;
  balances: Array<{ address: string; coinType: string; balance: string; changes: number }>;
}

/**
 * What the index of the Sui test app must hold: the payments source keeps the
 * transactions `ledger.truth({ packages })` lists, with the package's events the
 * truth lists and every balance change of those transactions; the wallets source
 * keeps the transactions `ledger.truth({ addresses })` lists for each span the
 * set had those members, with all their Move events and the truth's balance
 * changes of the members. Positions come from the checkpoint's transactions.
 */
export function expectedIndex(ledger: SuiLedger, packageId: string, payments: { from: number; to: number }, wallets: Following[]): SuiIndex {
  const items: IndexedItem[] = [];
  const transactions = new Map<string, SuiIndex['transactions'][number]>();
  const bases = new Map<number, number[]>();
  const transactionAt = (checkpoint: number, index: number) => ledger.checkpoint(checkpoint)!.transactions[index]!;
  const base = (checkpoint: number, index: number) => {
    let positions = bases.get(checkpoint);
    if (!positions) {
      positions = [];
      let at = 0;
      for (const tx of ledger.checkpoint(checkpoint)!.transactions) {
        positions.push(at);
        at += 1 + tx.events.length + tx.balanceChanges.length;
      }
      bases.set(checkpoint, positions);
    }
    return positions[index]!;
  };
  const keep = (source: string, t: { digest: string; checkpoint: number; index: number; sender: string; success: boolean }) => {
    items.push({ source, checkpoint: t.checkpoint, digest: t.digest, position: base(t.checkpoint, t.index), name: 'Transaction', detail: `${t.sender} ${t.success}` });
    const row = transactions.get(t.digest) ?? { digest: t.digest, checkpoint: t.checkpoint, txIndex: t.index, sender: t.sender, success: t.success, sources: [] };
    row.sources = [...new Set([...row.sources, source])].sort();
    transactions.set(t.digest, row);
  };
  const eventItem = (source: string, checkpoint: number, index: number, digest: string, eventIndex: number, event: { eventType: string; bcs: Uint8Array }) =>
    items.push({ source, checkpoint, digest, position: base(checkpoint, index) + 1 + eventIndex, name: structName(event.eventType), detail: `${normalizeStructTag(event.eventType)} ${toHex(event.bcs)}` });
  const changeItem = (source: string, checkpoint: number, index: number, digest: string, changeIndex: number, change: { address: string; coinType: string; amount: bigint }) =>
    items.push({
      source,
      checkpoint,
      digest,
      position: base(checkpoint, index) + 1 + transactionAt(checkpoint, index).events.length + changeIndex,
      name: 'BalanceChange',
      detail: `${normalizeSuiAddress(change.address)} ${normalizeStructTag(change.coinType)} ${change.amount}`,
    });

  const paid = ledger.truth({ packages: [packageId], from: payments.from, to: payments.to });
  for (const t of paid.transactions) {
    keep('payments', t);
    transactionAt(t.checkpoint, t.index).balanceChanges.forEach((change, i) => changeItem('payments', t.checkpoint, t.index, t.digest, i, change));
  }
  const paymentRows: SuiIndex['payments'] = [];
  for (const e of paid.events) {
    eventItem('payments', e.checkpoint, e.transactionIndex, e.transactionDigest, e.eventIndex, e);
    const json = e.json as { payer: string; recipient: string; amount: string; coin_type: string; memo: string };
    const position = base(e.checkpoint, e.transactionIndex) + 1 + e.eventIndex;
    paymentRows.push({ digest: e.transactionDigest, position, checkpoint: e.checkpoint, payer: json.payer, recipient: json.recipient, amount: json.amount, coinType: json.coin_type, memo: json.memo });
  }

  const balances = new Map<string, SuiIndex['balances'][number]>();
  for (const span of wallets) {
    if (span.to < span.from || span.addresses.length === 0) continue;
    const followed = ledger.truth({ addresses: span.addresses, from: span.from, to: span.to });
    for (const t of followed.transactions) {
      keep('wallets', t);
      transactionAt(t.checkpoint, t.index).events.forEach((event, i) => eventItem('wallets', t.checkpoint, t.index, t.digest, i, event));
    }
    const members = new Set(span.addresses.map((a) => normalizeSuiAddress(a)));
    for (const t of followed.transactions) {
      transactionAt(t.checkpoint, t.index).balanceChanges.forEach((change, i) => {
        if (members.has(normalizeSuiAddress(change.address))) changeItem('wallets', t.checkpoint, t.index, t.digest, i, change);
      });
    }
    for (const change of followed.balanceChanges) {
      const address = normalizeSuiAddress(change.address);
      const key = `${address} ${normalizeStructTag(change.coinType)}`;
      const row = balances.get(key) ?? { address, coinType: normalizeStructTag(change.coinType), balance: '0', changes: 0 };
      row.balance = (BigInt(row.balance) + change.amount).toString();
      row.changes += 1;
      balances.set(key, row);
    }
  }
  return sortIndex({ items, transactions: [...transactions.values()], payments: paymentRows, balances: [...balances.values()] });
}

/** What the database holds of the Sui test app's index, in the form of `expectedIndex`. */
export async function storedIndex(pool: pg.Pool): Promise<SuiIndex> {
  const { rows: events } = await pool.query<{ source: string; block_number: string; transaction_id: string; event_index: number; name: string; args: Record<string, unknown>; raw: Buffer }>(
    'select source, block_number::text, transaction_id, event_index, name, args, raw from indexer_events where chain = $1',
    [SUI_CHAIN],
  );
  const items = events.map((e): IndexedItem => {
    let detail: string;
    if (e.name === 'Transaction') detail = `${String(e.args.sender)} ${String(e.args.success)}`;
    else if (e.name === 'BalanceChange') detail = `${String(e.args.address)} ${String(e.args.coinType)} ${String(e.args.amount)}`;
    else {
      // A Move event's raw payload is the node's Event message: its BCS must be the emitted one.
      const event = GrpcTypes.Event.fromBinary(e.raw);
      detail = `${normalizeStructTag(event.eventType ?? '')} ${toHex(event.contents?.value ?? new Uint8Array())}`;
    }
    return { source: e.source, checkpoint: Number(e.block_number), digest: e.transaction_id, position: e.event_index, name: e.name, detail };
  });
  const { rows: transactions } = await pool.query('select digest, checkpoint::int, tx_index as "txIndex", sender, success, sources from sui_transactions where chain = $1', [SUI_CHAIN]);
  const { rows: payments } = await pool.query(
    'select digest, event_index as position, checkpoint::int, payer, recipient, amount::text, coin_type as "coinType", memo from sui_payments where chain = $1',
    [SUI_CHAIN],
  );
  const { rows: balances } = await pool.query('select address, coin_type as "coinType", balance::text, changes from sui_balances where chain = $1', [SUI_CHAIN]);
  return sortIndex({ items, transactions, payments, balances });
}

/**
 * Every row of the engine's and the app's tables for the chain, as text: two
 * databases that indexed the same network to the same checkpoint hold the same.
 */
export async function tables(pool: pg.Pool): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, columns] of Object.entries({
    indexer_events: 'chain, block_number, block_hash, block_timestamp, transaction_id, transaction_index, event_index, source, emitter, name, args, raw',
    indexer_checkpoints: 'chain, block_number, block_hash, block_timestamp, halted_reason',
    indexer_blocks: 'chain, number, hash, parent_hash, timestamp',
    indexer_sources: 'chain, name, start_block, state, synced_to',
    sui_transactions: '*',
    sui_payments: '*',
    sui_balances: '*',
  })) {
    const { rows } = await pool.query<{ row: string }>(`select row_to_json(t)::text as row from (select ${columns} from ${table} where chain = $1) t order by 1`, [SUI_CHAIN]);
    out[table] = rows.map((r) => r.row);
  }
  return out;
}

function sortIndex(index: SuiIndex): SuiIndex {
  const by = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  const pad = (n: number) => String(n).padStart(10, '0');
  return {
    items: index.items.sort(by((i) => `${pad(i.checkpoint)} ${pad(i.position)} ${i.source}`)),
    transactions: index.transactions.sort(by((t) => t.digest)),
    payments: index.payments.sort(by((p) => `${p.digest} ${pad(p.position)}`)),
    balances: index.balances.sort(by((b) => `${b.address} ${b.coinType}`)),
  };
}

/** `PaymentSent` of `0x…::payments::PaymentSent`. */
function structName(type: string): string {
  const plain = type.split('<')[0]!;
  return plain.slice(plain.lastIndexOf('::') + 2);
}
