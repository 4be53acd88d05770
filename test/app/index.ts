/**
 * The engine's neutral test app: a ledger of keyed values, a factory whose
 * children are found at run time, and writes that succeed once and revert after.
 * Made for the engine's tests (indexer, relayer, factory sources, several chains),
 * so that they depend on no product app. Its contracts are contracts/TestLedger.sol
 * and contracts/TestFactory.sol.
 */
import { evmFactorySource, evmIntent, evmSource, type ChainEvent, type ChainKey, type LedgersyncApp, type Projection } from '../../src/engine/index.js';
import { testLedgerAbi, testLedgerBytecode } from '../../contracts/artifacts/TestLedger.js';
import { testFactoryAbi, testFactoryBytecode } from '../../contracts/artifacts/TestFactory.js';
import { testChildAbi } from '../../contracts/artifacts/TestChild.js';

export const LEDGER = 'TestLedger';
export const FACTORY = 'TestFactory';

/** Per key: the last value written, by whom, where, and how many writes there were. */
export const entriesProjection: Projection = {
  name: 'ledger_entries',
  tables: ['ledger_entries'],
  events: ['ledger.Written'],
  async apply(events, store) {
    // One statement cannot update a row twice: fold the batch per key first.
    const latest = new Map<string, { event: ChainEvent; writes: number }>();
    for (const e of events) {
      const key = String(e.args.key);
      latest.set(key, { event: e, writes: (latest.get(key)?.writes ?? 0) + 1 });
    }
    const rows = [...latest.values()];
    await store.query(
      `insert into ledger_entries (chain, key, value, writer, block, transaction, writes)
       select * from unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::bigint[], $6::text[], $7::int[])
       on conflict (chain, key) do update set value = excluded.value, writer = excluded.writer, block = excluded.block,
         transaction = excluded.transaction, writes = ledger_entries.writes + excluded.writes`,
      [
        rows.map((r) => r.event.chain),
        rows.map((r) => r.event.args.key),
        rows.map((r) => r.event.args.value),
        rows.map((r) => r.event.args.writer),
        rows.map((r) => r.event.blockNumber.toString()),
        rows.map((r) => r.event.transactionId),
        rows.map((r) => r.writes),
      ],
    );
  },
};

/** The factory's children as it announced them, and each child's pings. */
export const childrenProjection: Projection = {
  name: 'ledger_children',
  tables: ['ledger_children'],
  events: ['factory.ChildCreated', 'children.Pinged'],
  async apply(events, store) {
    const created = events.filter((e) => e.name === 'ChildCreated');
    if (created.length > 0) {
      await store.copy(
        'ledger_children',
        ['chain', 'address', 'creator', 'salt', 'created_block'],
        created.map((e) => [e.chain, String(e.args.child), String(e.args.creator), String(e.args.salt), e.blockNumber]),
      );
    }
    const pings = new Map<string, { event: ChainEvent; count: number }>();
    for (const e of events.filter((e) => e.name === 'Pinged')) pings.set(`${e.chain} ${e.emitter}`, { event: e, count: (pings.get(`${e.chain} ${e.emitter}`)?.count ?? 0) + 1 });
    if (pings.size === 0) return;
    const rows = [...pings.values()];
    await store.query(
      `update ledger_children c set pings = c.pings + u.count, last_ping = u.n
       from unnest($1::text[], $2::text[], $3::int[], $4::numeric[]) as u(chain, address, count, n)
       where c.chain = u.chain and c.address = u.address`,
      [rows.map((r) => r.event.chain), rows.map((r) => r.event.emitter), rows.map((r) => r.count), rows.map((r) => r.event.args.n)],
    );
  },
};

export interface LedgerTestOptions {
  chain: ChainKey;
  /** Leave the factory and its children out (a deployment that adds them later). */
  withoutFactory?: boolean;
  /** Keep only the writes by members of this address set. */
  writersSet?: string;
}

export function ledgerTestApp(options: LedgerTestOptions): LedgersyncApp {
  const { chain } = options;
  const factory = options.withoutFactory
    ? []
    : [
        evmSource({ name: 'factory', chain, abi: testFactoryAbi, contract: FACTORY }),
        evmFactorySource({ name: 'children', chain, abi: testChildAbi, factory: { source: 'factory', event: 'ChildCreated', parameter: 'child' } }),
      ];
  return {
    name: 'ledger',
    migrations: 'test/app/migrations',
    contracts: [
      { name: LEDGER, chain, abi: testLedgerAbi, bytecode: testLedgerBytecode, constructorArgs: () => [] },
      { name: FACTORY, chain, abi: testFactoryAbi, bytecode: testFactoryBytecode, constructorArgs: () => [] },
    ],
    sources: [
      evmSource({ name: 'ledger', chain, abi: testLedgerAbi, contract: LEDGER, ...(options.writersSet ? { addressSet: { name: options.writersSet, args: ['writer'] } } : {}) }),
      ...factory,
    ],
    projections: options.withoutFactory ? [entriesProjection] : [entriesProjection, childrenProjection],
    intents: ledgerIntents(chain),
  };
}

/** Writes of the test app: to the ledger (its contract from the deployments file), and pings to a child named per intent. */
export function ledgerIntents(chain: ChainKey) {
  return [
    evmIntent({ name: 'ledger.write', chain, abi: testLedgerAbi, contract: LEDGER }),
    evmIntent({ name: 'ledger.child', chain, abi: testChildAbi }),
    evmIntent({ name: 'ledger.factory', chain, abi: testFactoryAbi, contract: FACTORY }),
  ];
}

/** The test app's tables, for test databases it is indexed into. */
export const ledgerMigrations = [{ name: 'ledger', migrations: 'test/app/migrations' }];
