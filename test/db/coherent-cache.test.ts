import { describe, expect, it, onTestFinished } from 'vitest';
import { CoherentCache } from '../../src/db/coherent-cache.js';
import { createLogger } from '../../src/runtime/logger.js';
import { connectDatabase } from '../../src/db/client.js';
import { inTransaction } from '../../src/db/transaction.js';
import { announceProjectionChanges, PROJECTIONS_CHANNEL } from '../../src/core/indexer/store.js';
import { createTestDatabase } from '../harness/db.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { until } from '../harness/until.js';

const CHANNEL = 'test_projections';

describe('CoherentCache', () => {
  it('serves from memory until a NOTIFY, never caches a load that straddled one, and reads through while its connection is lost', async () => {
    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    const cache = new CoherentCache<string>(database.pool, CHANNEL, createLogger('silent'), { heartbeatMs: 100 });
    await cache.start();
    onTestFinished(() => cache.close());
    let loads = 0;
    const load = async () => `value ${++loads}`;
    const notify = () => database.pool.query('select pg_notify($1, $2)', [CHANNEL, '31337']);

    // Serving from memory once its first heartbeat has come back.
    await until(async () => (await cache.get('a', load)) === (await cache.get('a', load)), 'the first heartbeat', 10_000, 20);
    const cached = await cache.get('a', load);
    const before = loads;

    await notify();
    await until(async () => (await cache.get('a', load)) !== cached, 'the notification', 10_000, 20);
    expect(loads).toBe(before + 1);

    // A change committed while the value was being read: that value is not kept.
    await cache.get('probe', load);
    await cache.get('b', async () => {
      await notify();
      // Wait until the notification has emptied the cache (the probe has to be loaded again).
      await until(async () => {
        const before = loads;
        await cache.get('probe', load);
        return loads > before;
      }, 'the notification', 10_000, 20);
      return 'stale';
    });
    expect(await cache.get('b', async () => 'fresh')).toBe('fresh');

    // The listening connection dies: every read goes to the loader until it is back.
    await database.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where query like 'listen ${CHANNEL}%' and pid <> pg_backend_pid()`);
    await until(async () => {
      const before = loads;
      await cache.get('c', load);
      await cache.get('c', load);
      return loads === before + 2;
    }, 'reads to bypass the cache', 10_000, 20);
    // …and it comes back by itself.
    await until(async () => {
      const before = loads;
      await cache.get('d', load);
      await cache.get('d', load);
      return loads === before + 1;
    }, 'the cache to be back', 10_000, 20);
  });

  it('serves from memory only while its own heartbeats come back through LISTEN: off within three intervals of a silent drop, warned once, back once one makes the round trip on a new connection', async () => {
    const HEARTBEAT_MS = 100;
    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    const proxy = await startTcpProxy(database.url);
    onTestFinished(() => proxy.close());
    const through = connectDatabase(proxy.url);
    onTestFinished(() => through.close());
    const said: { warn: string[]; info: string[] } = { warn: [], info: [] };
    const logger = { warn: (_: unknown, msg?: string) => said.warn.push(msg ?? ''), info: (_: unknown, msg?: string) => said.info.push(msg ?? '') };
    const cache = new CoherentCache<string>(through.pool, CHANNEL, logger, { heartbeatMs: HEARTBEAT_MS });
    await cache.start();
    onTestFinished(() => cache.close());
    let loads = 0;
    const load = async () => `value ${++loads}`;
    /** Reads `key` twice: whether the second read came from memory. */
    const fromMemory = async (key: string) => {
      await cache.get(key, load);
      const before = loads;
      await cache.get(key, load);
      return loads === before;
    };
    const listens = () => proxy.sent().filter((sent) => sent.includes(`listen ${CHANNEL}`)).length;

    await until(() => fromMemory('a'), 'the first heartbeat', 10_000, 20);
    expect(listens()).toBe(1);

    // Nothing more goes through the LISTEN connection, nor through any new one: a silent drop, then a pooler in transaction mode.
    const thaw = proxy.freezeFromNowOn((sent) => sent.includes(`listen ${CHANNEL}`));
    await until(async () => !(await fromMemory('b')), 'the cache to stop serving from memory', 20 * HEARTBEAT_MS, 10);
    for (let i = 0; i < 10; i++) {
      expect(await fromMemory(`c${i}`)).toBe(false);
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    }
    // It kept trying new connections, and said so once.
    expect(listens()).toBeGreaterThan(2);
    expect(said.warn).toEqual([expect.stringMatching(/^no cache heartbeat came back through LISTEN within 300 ms: .*pool_mode=transaction/)]);

    thaw();
    await until(() => fromMemory('d'), 'the cache to serve from memory again', 10_000, 20);
    expect(said.info).toEqual(['cache invalidation is back; serving from memory again']);
  });

  it("is emptied by the indexer's announcements, not by heartbeats, its own or another cache's", async () => {
    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    const caches = [0, 1].map(() => new CoherentCache<string>(database.pool, PROJECTIONS_CHANNEL, createLogger('silent'), { heartbeatMs: 50 }));
    for (const cache of caches) {
      await cache.start();
      onTestFinished(() => cache.close());
    }
    const [cache] = caches as [CoherentCache<string>];
    let loads = 0;
    const load = async () => `value ${++loads}`;
    await until(async () => (await cache.get('a', load)) === (await cache.get('a', load)), 'the first heartbeat', 10_000, 20);
    const cached = await cache.get('a', load);

    // Ten heartbeats of each cache.
    await new Promise((r) => setTimeout(r, 500));
    expect(await cache.get('a', load)).toBe(cached);

    await inTransaction(database.pool, (client) => announceProjectionChanges(client, 'evm:31337', ['credentials']));
    await until(async () => (await cache.get('a', load)) !== cached, 'the announcement', 10_000, 20);
  });
});
