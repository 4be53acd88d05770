import { describe, expect, it, onTestFinished } from 'vitest';
import pg from 'pg';
import type { CoherentCache } from '../../src/engine/index.js';
import { buildServer } from '../../src/http/server.js';
import { createOutbox } from '../../src/core/relayer/outbox.js';
import { PROJECTIONS_CHANNEL } from '../../src/core/indexer/store.js';
import { appContextFor } from '../../src/wiring/roles.js';
import { createLogger } from '../../src/runtime/logger.js';
import { ledgerIntents } from '../app/index.js';
import { ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { until } from '../harness/until.js';

/**
 * Per-projection change notifications, end to end: the indexer's commits
 * announce `<projection>@<chain>` for each projection they changed, and the
 * caches apps get from their context (`cache(projections)`) empty only for
 * theirs; a reorg's rollback announces every projection of the chain.
 * The test app: a write changes ledger_entries only, a new child ledger_children only.
 */

/** Long enough that a busy machine never makes a cache go deaf (and empty itself) during the test. */
const HEARTBEAT_MS = 2_000;
/** After the test's own listener has heard an announcement, the caches' listeners have had it too. */
const DELIVERED_MS = 500;

async function cachesOverTheLedger() {
  const world = await ledgerWorld();
  const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 10 });
  const chain = live.evm.key;

  // Everything the channel carries, as another listener hears it (heartbeats aside).
  const observer = new pg.Client({ connectionString: live.database.url });
  await observer.connect();
  onTestFinished(() => observer.end());
  const heard: string[] = [];
  observer.on('notification', ({ payload }) => {
    if (payload && !payload.startsWith('ledgersync-cache-heartbeat:')) heard.push(payload);
  });
  await observer.query(`listen ${PROJECTIONS_CHANNEL}`);

  // The caches an app's routes get from the api role's context.
  const context = appContextFor({
    pool: live.database.pool,
    logger: createLogger('silent'),
    chains: [live.evm],
    deploymentsFile: world.deploymentsFile,
    outbox: createOutbox({ chains: [{ key: chain, codec: live.evm.codec, signers: [] }], kinds: ledgerIntents(chain) }),
    readCacheHeartbeatMs: HEARTBEAT_MS,
  });
  let caches: { entries: CoherentCache<string>; children: CoherentCache<string> } | undefined;
  const server = await buildServer({
    logger: createLogger('silent'),
    readiness: [],
    version: 'test',
    routes: [
      async (app) => {
        const ctx = context(app);
        caches = { entries: await ctx.cache<string>(['ledger_entries']), children: await ctx.cache<string>(['ledger_children']) };
      },
    ],
  });
  onTestFinished(() => server.close());
  const { entries, children } = caches!;

  let loads = 0;
  /** Whether reading `key` went to the loader (the cache did not hold it). */
  const loaded = async (cache: CoherentCache<string>, key = 'row') => {
    const before = loads;
    await cache.get(key, async () => `loaded ${++loads}`);
    return loads > before;
  };
  for (const cache of [entries, children]) {
    await until(async () => {
      await loaded(cache);
      return !(await loaded(cache));
    }, 'the cache to serve from memory', 10_000, 20);
  }
  /** Waits until the test's listener has heard `payloads` (and the caches' listeners, by then, too). */
  const hear = async (payloads: string[]) => {
    await until(() => payloads.every((p) => heard.includes(p)), `the announcements ${payloads.join(', ')}`, 10_000, 20);
    await new Promise((r) => setTimeout(r, DELIVERED_MS));
  };
  return { world, live, chain, entries, children, loaded, heard, hear };
}

describe('caches over projections, emptied by the indexer', () => {
  it("keeps a cache over ledger_entries through a commit that changes only ledger_children, and empties it on one that changes ledger_entries (and the other way round)", async () => {
    const { world, live, chain, entries, children, loaded, heard, hear } = await cachesOverTheLedger();

    // A new child: ledger_children changes, ledger_entries does not.
    const { child, block: created } = await world.createChild();
    await live.indexer.waitForBlock(created);
    await hear([`ledger_children@${chain}`]);
    expect(await loaded(children)).toBe(true);
    expect(await loaded(entries)).toBe(false);
    const { rows: kids } = await live.database.pool.query('select address from ledger_children');
    expect(kids.map((r) => r.address)).toEqual([child]);

    // A write: ledger_entries changes, ledger_children does not.
    const written = await world.write('alpha', 7n);
    await live.indexer.waitForBlock(written);
    await hear([`ledger_entries@${chain}`]);
    expect(await loaded(entries)).toBe(true);
    expect(await loaded(children)).toBe(false);

    // Each commit announced exactly the projection it changed.
    expect(heard).toEqual([`ledger_children@${chain}`, `ledger_entries@${chain}`]);
  });

  it('empties the caches of every projection of the chain when a reorg rolls blocks back, also those whose rows the rolled-back blocks did not touch', async () => {
    const { world, live, chain, entries, children, loaded, heard, hear } = await cachesOverTheLedger();
    await world.createChild();
    const written = await world.write('doomed', 1n);
    await live.indexer.waitForBlock(written);
    await hear([`ledger_children@${chain}`, `ledger_entries@${chain}`]);
    heard.length = 0;
    await loaded(entries);
    await loaded(children);
    expect(await loaded(entries)).toBe(false);
    expect(await loaded(children)).toBe(false);

    // The block with the write is replaced by an empty one; one more empty block makes the indexer look.
    await world.testClient.request({ method: 'anvil_reorg' as never, params: [1, []] as never });
    await world.mine(1);
    const head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    await hear([`ledger_entries@${chain}`, `ledger_children@${chain}`]);

    // The write was undone; no child was touched, and no new block changed anything: only the rollback announced.
    const { rows } = await live.database.pool.query('select count(*)::int as n from ledger_entries');
    expect(rows[0].n).toBe(0);
    expect([...heard].sort()).toEqual([`ledger_children@${chain}`, `ledger_entries@${chain}`]);
    expect(await loaded(entries)).toBe(true);
    expect(await loaded(children)).toBe(true);
  });
});
