import { describe, expect, it, onTestFinished } from 'vitest';
import type pg from 'pg';
import type { Address, Hex } from 'viem';
import { FACTORY, ledgerMigrations } from '../app/index.js';
import { findDeployment } from '../../src/chain/evm/deployments.js';
import { freshLedgerIndex, ledgerSnapshot, ledgerWorld, runLedgerIndexer, type LedgerWorld } from '../harness/ledger-world.js';
import { startRpcProxy, type RecordedCall } from '../harness/rpc-proxy.js';
import { until } from '../harness/until.js';
import { createEmptyDatabase, createTestDatabase } from '../harness/db.js';
import { CLI_WITH_TS_CONFIG, RunningCli, scratchDir } from '../harness/cli.js';
import { connectDatabase } from '../../src/db/client.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { join } from 'node:path';

type Snapshot = Awaited<ReturnType<typeof ledgerSnapshot>>;

/** A database for indexers that follow one another on it (dropped when the test ends). */
async function sharedDatabase() {
  const database = await createTestDatabase(ledgerMigrations);
  onTestFinished(() => database.drop());
  return database;
}

/** Per child: the block of its Born, of its ChildCreated, and whether Born came first (both in the creation transaction). */
function births(state: Snapshot) {
  return new Map(
    state.children.map((c) => {
      const born = state.events.find((e) => e.name === 'Born' && e.emitter === c.address);
      const created = state.events.find((e) => e.name === 'ChildCreated' && e.args.child === c.address);
      return [c.address as string, { created: c.created_block as bigint, born: born?.block_number as bigint | undefined, bornFirst: !!born && !!created && born.transaction_id === created.transaction_id && born.event_index < created.event_index }];
    }),
  );
}

/** The child rows as [address, pings, last ping], by address. */
const pingsOf = (state: Snapshot) => state.children.map((c) => [c.address, c.pings, c.last_ping]);
const byAddress = (rows: unknown[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

describe('factory sources', () => {
  it('indexes children found during backfill and during realtime from the blocks that created them', async () => {
    const world = await ledgerWorld();
    // History: children created across many small backfill ranges, one of them pinged in the block that created it.
    const early: Array<{ child: Address; block: bigint }> = [];
    for (let i = 0; i < 6; i++) {
      early.push(await world.createChild());
      await world.write(`early-${i}`, BigInt(i));
      await world.ping(early[i]!.child, BigInt(10 + i));
    }
    const sameBlock = await world.createCall();
    const sameBlockAt = await world.oneBlock([sameBlock.call, world.pingCall(sameBlock.child, 99n), world.writeCall('same', 1n)]);

    const node = await startRpcProxy(world.rpcUrl, { record: ['eth_getLogs'] });
    onTestFinished(() => node.close());
    const live = await runLedgerIndexer(node.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, maxBlockRange: 3, concurrency: 3 });
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    // The backfill read the history in ranges of at most 3 blocks, each with its factory announcements first.
    const ranges = (await logRequests(world, node.recorded())).filter((r) => !r.byHash);
    expect(ranges.length).toBeGreaterThan(10);
    expect(ranges.filter((r) => r.to - r.from + 1n > 3n)).toEqual([]);
    // Realtime: a child alone, a child pinged in its own block, pings of older children.
    const late = await world.createChild();
    await world.ping(late.child, 7n);
    const lateSameBlock = await world.createCall();
    const lateSameBlockAt = await world.oneBlock([world.writeCall('late-same', 2n), lateSameBlock.call, world.pingCall(lateSameBlock.child, 77n)]);
    await world.ping(early[0]!.child, 2n);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);

    const state = await ledgerSnapshot(live.database.pool, head);
    expect(pingsOf(state)).toEqual(
      byAddress([
        ...early.map((c, i) => [c.child, i === 0 ? 2 : 1, i === 0 ? '2' : String(10 + i)]),
        [sameBlock.child, 1, '99'],
        [late.child, 1, '7'],
        [lateSameBlock.child, 1, '77'],
      ]),
    );
    // Each child from the block that created it: its Born (emitted by its constructor, before the
    // factory's ChildCreated, in the same transaction) is indexed, and the children table says where it starts.
    const born = births(state);
    expect(born.size).toBe(9);
    for (const [child, b] of born) expect({ child, ...b }).toEqual({ child, created: b.created, born: b.created, bornFirst: true });
    expect(born.get(sameBlock.child)!.created).toBe(sameBlockAt);
    expect(born.get(lateSameBlock.child)!.created).toBe(lateSameBlockAt);
    expect(state.childSources.map((c) => [c.id, c.block_number])).toEqual(
      [...born].map(([child, b]) => [child, b.created]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
  });

  it('keeps every child it found through RPC failures in the middle of backfill ranges and of realtime blocks', async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 12; i++) {
      const { child } = await world.createChild();
      await world.ping(child, BigInt(i));
    }
    // A node whose eth_getLogs fails often: a range (or block) can fail after its children were announced.
    const node = await startRpcProxy(world.rpcUrl, { methods: ['eth_getLogs'], errorRate: 0.2, seed: 7 });
    onTestFinished(() => node.close());
    const database = await sharedDatabase();
    const first = await runLedgerIndexer(node.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, maxBlockRange: 2, concurrency: 4, database });
    await first.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    const live: Address[] = [];
    for (let i = 0; i < 8; i++) live.push((await world.createChild()).child);
    const head = await world.publicClient.getBlockNumber();
    await first.indexer.waitForBlock(head);
    expect(node.stats().injected.error ?? 0).toBeGreaterThan(5);
    expect(await ledgerSnapshot(database.pool, head)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));

    // What it keeps is what a restarted indexer reads: every child's later pings are indexed.
    await first.close();
    node.setPlan({});
    const second = await runLedgerIndexer(node.url, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, database });
    for (const [i, child] of live.entries()) await world.ping(child, BigInt(100 + i));
    const end = await world.publicClient.getBlockNumber();
    await second.indexer.waitForBlock(end);
    const state = await ledgerSnapshot(database.pool, end);
    expect(state.children.filter((c) => live.includes(c.address)).map((c) => c.pings)).toEqual(live.map(() => 1));
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, end));
  });
});

/** What the indexer holds about one child: its row in indexer_children and ledger_children, and every event that names it. */
async function traces(pool: pg.Pool, child: Address) {
  const q = async (sql: string) => (await pool.query(sql, [child])).rows;
  return {
    childSource: await q('select source, block_number from indexer_children where id = $1'),
    row: await q('select created_block, pings, last_ping::text from ledger_children where address = $1'),
    events: await q(`select block_number, name from indexer_events where emitter = $1 or args->>'child' = $1 order by block_number, event_index`),
  };
}

const FINALITY = 10;

describe('factory sources through reorgs', () => {
  it.each(['runs', 'is stopped'])('forgets a child whose creation is reorged out while the indexer %s, pings in later blocks included, and finds the new branch’s child', async (when) => {
    const world = await ledgerWorld();
    const database = await sharedDatabase();
    const options = { deploymentsFile: world.deploymentsFile, finalityDepth: FINALITY, database };
    const kept = await world.createChild();
    await world.ping(kept.child, 1n);
    const doomed = await world.createChild('doomed');
    await world.ping(doomed.child, 2n);
    await world.ping(kept.child, 3n);
    await world.ping(doomed.child, 4n);
    let indexer = await runLedgerIndexer(world.rpcUrl, options);
    const head = await world.publicClient.getBlockNumber();
    await indexer.indexer.waitForBlock(head);
    const before = await traces(database.pool, doomed.child);
    expect(before.row).toEqual([{ created_block: doomed.block, pings: 2, last_ping: '4' }]);
    expect(before.events.map((e) => e.name)).toEqual(['Born', 'ChildCreated', 'Pinged', 'Pinged']);
    if (when === 'is stopped') await indexer.close();

    // The blocks from the creation on are replaced by others: writes, and another child.
    await world.reorg(Number(head - doomed.block + 1n));
    await world.mine(1);
    if (when === 'is stopped') indexer = await runLedgerIndexer(world.rpcUrl, options);
    const newHead = await world.publicClient.getBlockNumber();
    await indexer.indexer.waitForBlock(newHead);

    expect(await traces(database.pool, doomed.child)).toEqual({ childSource: [], row: [], events: [] });
    const state = await ledgerSnapshot(database.pool, newHead);
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
    // The new branch's child is there from its creation block, and the kept child lost the ping the reorg removed.
    const born = births(state);
    expect(born.size).toBe(2);
    expect(born.has(kept.child)).toBe(true);
    const replacement = [...born.keys()].find((c) => c !== kept.child)!;
    expect(born.get(replacement)).toEqual({ created: newHead - 1n, born: newHead - 1n, bornFirst: true });
    expect(state.children.find((c) => c.address === kept.child)).toMatchObject({ pings: 1, last_ping: '1' });

    // Created again (same salt, same address) in a later block: followed again, from that block.
    const again = await world.createChild('doomed');
    expect(again.child).toBe(doomed.child);
    await world.ping(again.child, 5n);
    const end = await world.publicClient.getBlockNumber();
    await indexer.indexer.waitForBlock(end);
    expect(await traces(database.pool, doomed.child)).toEqual({
      childSource: [{ source: 'children', block_number: again.block }],
      row: [{ created_block: again.block, pings: 1, last_ping: '5' }],
      events: [
        { block_number: again.block, name: 'Born' },
        { block_number: again.block, name: 'ChildCreated' },
        { block_number: end, name: 'Pinged' },
      ],
    });
    expect(await ledgerSnapshot(database.pool, end)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, end));
  });

  it('follows a child whose creation a reorg moves to a later block, with only the new branch’s pings', async () => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: FINALITY });
    const moved = await world.createChild('moved');
    await world.ping(moved.child, 1n);
    await world.ping(moved.child, 2n);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    expect((await traces(live.database.pool, moved.child)).row).toEqual([{ created_block: moved.block, pings: 2, last_ping: '2' }]);

    // Three new blocks: a write, then the same creation (same salt) with a ping in its block, then a ping.
    const depth = Number(head - moved.block + 1n);
    const { call } = await world.createCall('moved');
    await world.reorgWith(depth, [
      [world.writeCall('first', 1n), 0],
      [call, 1],
      [world.pingCall(moved.child, 7n), 1],
      [world.pingCall(moved.child, 8n), 2],
    ]);
    await world.mine(1);
    const newHead = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(newHead);

    const createdAt = moved.block + 1n;
    expect(await traces(live.database.pool, moved.child)).toEqual({
      childSource: [{ source: 'children', block_number: createdAt }],
      row: [{ created_block: createdAt, pings: 2, last_ping: '8' }],
      events: [
        { block_number: createdAt, name: 'Born' },
        { block_number: createdAt, name: 'ChildCreated' },
        { block_number: createdAt, name: 'Pinged' },
        { block_number: createdAt + 1n, name: 'Pinged' },
      ],
    });
    expect(await ledgerSnapshot(live.database.pool, newHead)).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });
});

async function sourcesOf(pool: pg.Pool) {
  return (await pool.query<{ name: string; state: string; synced_to: bigint | null }>('select name, state, synced_to from indexer_sources order by name')).rows;
}

async function checkpointOf(pool: pg.Pool): Promise<bigint> {
  return (await pool.query<{ block_number: bigint }>('select block_number from indexer_checkpoints')).rows[0]!.block_number;
}

/** The block each recorded eth_getLogs asked about: its range, or the number of the block it named by hash; and its addresses. */
async function logRequests(world: LedgerWorld, calls: RecordedCall[]) {
  return Promise.all(
    calls.map(async ({ params }) => {
      const filter = (params as Array<{ address?: string[]; fromBlock?: string; toBlock?: string; blockHash?: Hex }>)[0]!;
      const addresses = (filter.address ?? []).map((a) => a.toLowerCase());
      if (filter.blockHash) {
        const { number } = await world.publicClient.getBlock({ blockHash: filter.blockHash });
        return { from: number, to: number, byHash: true, addresses };
      }
      return { from: BigInt(filter.fromBlock!), to: BigInt(filter.toBlock!), byHash: false, addresses };
    }),
  );
}

describe('a source added to the configuration of a running deployment', () => {
  it('backfills only that source: its history from its start, the others’ not fetched again, only the projections that read it replayed', async () => {
    const world = await ledgerWorld();
    for (let i = 0; i < 8; i++) {
      await world.write(`before-${i}`, BigInt(i));
      const { child } = await world.createChild();
      await world.ping(child, BigInt(i));
    }
    const node = await startRpcProxy(world.rpcUrl, { record: ['eth_getLogs'] });
    onTestFinished(() => node.close());
    const database = await sharedDatabase();
    const options = { deploymentsFile: world.deploymentsFile, finalityDepth: 3, maxBlockRange: 4, database };
    const first = await runLedgerIndexer(node.url, { ...options, app: { withoutFactory: true } });
    await first.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    await first.close();
    const indexed = await checkpointOf(database.pool);
    expect((await database.pool.query('select count(*)::int as n from ledger_children')).rows[0].n).toBe(0);
    expect(await sourcesOf(database.pool)).toEqual([{ name: 'ledger', state: 'live', synced_to: null }]);
    // What the ledger's projection holds, row versions included: replaying it would rewrite every row.
    const entries = async () => (await database.pool.query('select key, value::text, xmin::text, ctid::text from ledger_entries order by key')).rows;
    const entriesBefore = await entries();
    expect(entriesBefore).toHaveLength(8);

    // The chain moves on while the deployment is stopped; then it starts with the factory and its children configured.
    await world.write('after', 100n);
    const late = await world.createChild();
    await world.ping(late.child, 100n);
    const asked = node.recorded().length;
    const second = await runLedgerIndexer(node.url, options);
    const head = await world.publicClient.getBlockNumber();
    await second.indexer.waitForBlock(head);

    const requests = await logRequests(world, node.recorded().slice(asked));
    // The ledger's address is asked about only for blocks above what was indexed before.
    const ledgerAsked = requests.filter((r) => r.addresses.includes(world.ledger.toLowerCase()));
    expect(ledgerAsked.length).toBeGreaterThan(0);
    expect(ledgerAsked.filter((r) => r.from <= indexed)).toEqual([]);
    // The factory's history is fetched from the block that deployed it.
    const factoryStart = BigInt(findDeployment(world.deploymentsFile, world.chain, FACTORY)!.blockNumber);
    const factoryAsked = requests.filter((r) => r.addresses.includes(world.factory.toLowerCase()));
    expect(factoryAsked.reduce((low, r) => (r.from < low ? r.from : low), head)).toBe(factoryStart);

    expect(await sourcesOf(database.pool)).toEqual(['children', 'factory', 'ledger'].map((name) => ({ name, state: 'live', synced_to: null })));
    // ledger_entries was not rebuilt: the same row versions, and the one new write.
    const entriesAfter = await entries();
    expect(entriesAfter.filter((e) => entriesBefore.some((b) => b.key === e.key))).toEqual(entriesBefore);
    expect(entriesAfter).toHaveLength(9);
    const state = await ledgerSnapshot(database.pool, head);
    expect(state.children).toHaveLength(9);
    expect(state.children.every((c) => c.pings === 1)).toBe(true);
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
  });

  it('journals what the new source finds in unfinalized blocks, so that a later reorg of a child created there is undone', async () => {
    const world = await ledgerWorld();
    const old = await world.createChild();
    await world.ping(old.child, 1n);
    await world.mine(FINALITY);
    const recent = await world.createChild();
    await world.ping(recent.child, 2n);
    await world.write('recent', 2n);
    const node = await startRpcProxy(world.rpcUrl, { record: ['eth_getLogs'] });
    onTestFinished(() => node.close());
    const database = await sharedDatabase();
    const options = { deploymentsFile: world.deploymentsFile, finalityDepth: FINALITY, database };
    const first = await runLedgerIndexer(node.url, { ...options, app: { withoutFactory: true } });
    const head = await world.publicClient.getBlockNumber();
    await first.indexer.waitForBlock(head);
    await first.close();

    const asked = node.recorded().length;
    const second = await runLedgerIndexer(node.url, options);
    await until(async () => (await sourcesOf(database.pool)).every((s) => s.state === 'live') && (await sourcesOf(database.pool)).length === 3, 'the new sources to catch up');
    // The unfinalized part of their history was read block by block and journaled.
    const byHash = (await logRequests(world, node.recorded().slice(asked))).filter((r) => r.byHash && r.addresses.includes(world.factory.toLowerCase()));
    expect(byHash.map((r) => r.from)).toContain(recent.block);
    const journaled = async (table: string) =>
      (await database.pool.query('select block_number from indexer_journal where table_name = $1 order by block_number', [table])).rows.map((r) => r.block_number);
    expect(await journaled('indexer_children')).toEqual([recent.block]);
    expect(await journaled('ledger_children')).toEqual([recent.block, recent.block + 1n]);
    expect((await traces(database.pool, recent.child)).row).toEqual([{ created_block: recent.block, pings: 1, last_ping: '2' }]);

    await world.reorg(Number(head - recent.block + 1n));
    await world.mine(1);
    const newHead = await world.publicClient.getBlockNumber();
    await second.indexer.waitForBlock(newHead);
    expect(await traces(database.pool, recent.child)).toEqual({ childSource: [], row: [], events: [] });
    const state = await ledgerSnapshot(database.pool, newHead);
    expect(state.children.map((c) => c.address)).toContain(old.child);
    expect(state.children).toHaveLength(2);
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });

  it('lets a reorg met while the new source reads unfinalized blocks be undone first, then finishes', async () => {
    const world = await ledgerWorld();
    await world.createChild();
    await world.mine(4);
    const doomed: Address[] = [];
    for (let i = 0; i < 2 * FINALITY; i++) {
      if (i % 4 === 0) doomed.push((await world.createChild()).child);
      else await world.write(`w-${i}`, BigInt(i));
    }
    // A slow node: reading the unfinalized blocks one by one takes a while.
    const node = await startRpcProxy(world.rpcUrl, { latencyMs: 40 });
    onTestFinished(() => node.close());
    const database = await sharedDatabase();
    const options = { deploymentsFile: world.deploymentsFile, finalityDepth: 2 * FINALITY, database };
    const first = await runLedgerIndexer(node.url, { ...options, app: { withoutFactory: true } });
    const head = await world.publicClient.getBlockNumber();
    await first.indexer.waitForBlock(head);
    await first.close();

    const second = await runLedgerIndexer(node.url, options);
    const depth = 6;
    // Once the new sources are well into the unfinalized blocks, but not yet at those the reorg replaces.
    const progress = await until(
      async () => (await sourcesOf(database.pool)).find((s) => s.name === 'children' && s.state === 'catching-up' && s.synced_to! >= head - BigInt(FINALITY)),
      'the catch-up to reach the unfinalized blocks',
      60_000,
      10,
    );
    await world.reorg(depth);
    expect(progress.synced_to!).toBeLessThan(head - BigInt(depth) + 1n);
    // One more block, not enough to make the reorged blocks final: the indexer must settle the reorg itself.
    await world.mine(1);
    const newHead = await world.publicClient.getBlockNumber();
    await second.indexer.waitForBlock(newHead, 30_000);
    expect(await sourcesOf(database.pool)).toEqual(['children', 'factory', 'ledger'].map((name) => ({ name, state: 'live', synced_to: null })));
    const state = await ledgerSnapshot(database.pool, newHead);
    const reorgedOut = doomed.filter((c) => !state.children.some((row) => row.address === c));
    expect(reorgedOut.length).toBeGreaterThan(0);
    for (const child of reorgedOut) expect(await traces(database.pool, child)).toEqual({ childSource: [], row: [], events: [] });
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, newHead));
  });
});

const ROUNDS = 15;
const CRASH_FINALITY = 8;

/**
 * `ledgersync indexer` with the test app (its config file loaded through tsx), in a child
 * process killed with SIGKILL at random moments of its start, backfill and realtime, while
 * children are created and pinged and reorgs remove some creations, with the indexer running
 * or down. At the end the state equals a fresh index, and no child whose creation was reorged
 * out (and not created again) is left anywhere.
 */
describe('factory sources in an indexer killed at random moments', () => {
  it(`ends equal to a fresh index after ${ROUNDS} SIGKILLs among child creations, pings and reorgs`, async () => {
    const world = await ledgerWorld();
    onTestFinished(() => world.stop());
    type Tracked = { label: string; child: Address; block: bigint; gone: boolean };
    const tracked: Tracked[] = [];
    const create = async (label = `crash-${tracked.length}`) => {
      const { child, block } = await world.createChild(label);
      const known = tracked.find((t) => t.label === label);
      if (known) Object.assign(known, { block, gone: false });
      else tracked.push({ label, child, block, gone: false });
    };
    const pingOne = async (n: number) => {
      const alive = tracked.filter((t) => !t.gone);
      if (alive.length === 0) return create();
      await world.ping(alive[Math.floor(Math.random() * alive.length)]!.child, BigInt(n));
    };
    // History for a backfill over many small ranges: children, pings, writes, empty stretches.
    for (let i = 0; i < 20; i++) {
      await create();
      await pingOne(i);
      await world.write(`history-${i % 5}`, BigInt(i));
      await world.mine(5);
    }

    // One chain writer at a time: a reorg never lands while a transaction waits for its receipt.
    let queue: Promise<unknown> = Promise.resolve();
    const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
      const run = queue.then(work);
      queue = run.catch(() => {});
      return run;
    };
    const reorgs = { whileRunning: 0, whileDown: 0, childrenRemoved: 0 };
    // Each reorg removes at least one child's creation and a ping of it in a later block (and whatever else was in its 2 to 6 blocks).
    const reorgNow = () =>
      exclusive(async () => {
        await create();
        await world.ping(tracked.at(-1)!.child, 0n);
        const top = await world.publicClient.getBlockNumber();
        const depth = 2 + Math.floor(Math.random() * (CRASH_FINALITY - 3));
        await world.reorg(depth);
        const removed = tracked.filter((t) => !t.gone && t.block > top - BigInt(depth));
        for (const t of removed) t.gone = true;
        reorgs.childrenRemoved += removed.length;
      });
    let producing = true;
    let recreated = 0;
    const producer = (async () => {
      for (let n = 0; producing; n++) {
        const draw = Math.random();
        await exclusive(async () => {
          const gone = tracked.find((t) => t.gone);
          // A few children whose creation was reorged out are created again (same salt, same address).
          if (draw < 0.05 && gone && recreated++ < 3) await create(gone.label);
          else if (draw < 0.45) await create();
          else if (draw < 0.85) await pingOne(n);
          else await world.write(`live-${n % 7}`, BigInt(n));
        });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // A slow node: a backfill spans several lives.
    const node = await startRpcProxy(world.rpcUrl, { latencyMs: 20 });
    onTestFinished(() => node.close());
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const { pool, close } = connectDatabase(database.url, { max: 2 });
    onTestFinished(close);
    const env = {
      DATABASE_URL: database.url,
      RPC_URL: node.url,
      DEPLOYMENTS_FILE: world.deploymentsFile,
      FINALITY_DEPTH: String(CRASH_FINALITY),
      INDEXER_MAX_BLOCK_RANGE: '3',
      INDEXER_CONCURRENCY: '2',
      INDEXER_POLL_INTERVAL_MS: '100',
      LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app', 'ledgersync.config.ts'),
      LOG_LEVEL: 'info',
    };
    // The built CLI, under tsx's loader so that it can import the TypeScript config file.
    const script = CLI_WITH_TS_CONFIG;
    const cwd = scratchDir();

    const killedIn = { startUp: 0, backfill: 0, realtime: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const indexer = new RunningCli(['indexer'], { cwd, env, script });
      if (round % 5 !== 4) {
        // Not in its start-up (migrations, loading the config, opening the chain) but one round in five.
        await until(() => indexer.output.includes('ledgersync is running') || indexer.child.exitCode !== null, `round ${round}: the indexer to start`, 60_000, 20);
        expect(indexer.child.exitCode, indexer.output).toBeNull();
      }
      if (round >= ROUNDS / 3 && round % 5 !== 4) {
        // Past the first rounds, once it follows the head, so that realtime is killed too however slow the machine is.
        await until(async () => ((await checkpointIfAny(pool)) ?? -1n) >= (await world.publicClient.getBlockNumber()) - BigInt(CRASH_FINALITY), 'realtime', 30_000).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
      if (round % 3 === 1) {
        await reorgNow();
        reorgs.whileRunning++;
        await new Promise((r) => setTimeout(r, Math.random() * 1000));
      }
      const [checkpoint, head] = await Promise.all([checkpointIfAny(pool), world.publicClient.getBlockNumber()]);
      const running = indexer.output.includes('ledgersync is running');
      await indexer.kill();
      if (!running) killedIn.startUp++;
      else if (checkpoint !== undefined && checkpoint >= head - BigInt(CRASH_FINALITY)) killedIn.realtime++;
      else killedIn.backfill++;
      if (round % 3 === 2) {
        await reorgNow();
        reorgs.whileDown++;
      }
    }
    producing = false;
    await producer;
    // A last reorg with the indexer running to the end.
    const last = new RunningCli(['indexer'], { cwd, env, script });
    await reorgNow();
    reorgs.whileRunning++;
    await world.mine(1);
    const head = await world.publicClient.getBlockNumber();
    await until(async () => (await checkpointIfAny(pool)) === head, `the indexer to reach ${head}`, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${last.output.slice(-3000)}`);
    });
    expect(await last.stop('SIGTERM'), last.output.slice(-3000)).toBe(0);

    // The CLI indexed the test app: all three sources, its children and their pings.
    expect(await sourcesOf(pool)).toEqual(['children', 'factory', 'ledger'].map((name) => ({ name, state: 'live', synced_to: null })));
    const state = await ledgerSnapshot(pool, head);
    const alive = tracked.filter((t) => !t.gone);
    expect(alive.every((t) => state.children.some((c) => c.address === t.child && c.created_block === t.block))).toBe(true);
    expect(state.children.reduce((n, c) => n + Number(c.pings), 0)).toBeGreaterThan(20);
    for (const t of tracked.filter((t) => t.gone)) expect({ child: t.child, ...(await traces(pool, t.child)) }).toEqual({ child: t.child, childSource: [], row: [], events: [] });
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
    // The kills and reorgs landed where they were meant to.
    const landed = JSON.stringify({ killedIn, reorgs, children: tracked.length, gone: tracked.filter((t) => t.gone).length });
    expect(killedIn.realtime, landed).toBeGreaterThanOrEqual(3);
    expect(killedIn.backfill, landed).toBeGreaterThanOrEqual(3);
    expect(killedIn.startUp, landed).toBeGreaterThanOrEqual(1);
    expect(reorgs, landed).toMatchObject({ whileRunning: 6, whileDown: 5 });
    expect(tracked.filter((t) => t.gone).length, landed).toBeGreaterThanOrEqual(8);
  }, 300_000);
});

/** The checkpoint, or undefined before the first indexer life got as far as creating it (or migrating). */
async function checkpointIfAny(pool: pg.Pool): Promise<bigint | undefined> {
  try {
    const { rows } = await pool.query<{ block_number: string }>('select block_number::text from indexer_checkpoints');
    return rows[0] ? BigInt(rows[0].block_number) : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return undefined;
    throw error;
  }
}
