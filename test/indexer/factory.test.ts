import { describe, expect, it } from 'vitest';
import { freshLedgerIndex, ledgerSnapshot, ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';

describe('factory sources', () => {
  it('indexes children found during backfill and during realtime from the blocks that created them', async () => {
    const world = await ledgerWorld();
    const early = await world.createChild();
    await world.ping(early.child, 1n);
    await world.write('a', 1n);
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2 });
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    const late = await world.createChild();
    await world.ping(late.child, 7n);
    await world.ping(early.child, 2n);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    const state = await ledgerSnapshot(live.database.pool, head);
    expect(state.children.map((c) => [c.address, c.pings, c.last_ping])).toEqual(
      [
        [early.child, 2, '2'],
        [late.child, 1, '7'],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // Born is emitted by the child's constructor, before the factory's announcement, in the creation block.
    expect(state.events.filter((e) => e.name === 'Born').map((e) => e.emitter).sort()).toEqual([early.child, late.child].sort());
    expect(state).toEqual(await freshLedgerIndex(world.rpcUrl, world.deploymentsFile, head));
  });
});
