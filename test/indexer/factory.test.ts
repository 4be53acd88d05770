import { describe, expect, it, onTestFinished } from 'vitest';
import type { Address } from 'viem';
import { ledgerMigrations } from '../app/index.js';
import { createTestDatabase } from '../harness/db.js';
import { freshLedgerIndex, ledgerSnapshot, ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';

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

    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, maxBlockRange: 3, concurrency: 3 });
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
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
    const node = await startRpcProxy(world.rpcUrl, { methods: ['eth_getLogs'], errorRate: 0.3, seed: 7 });
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
