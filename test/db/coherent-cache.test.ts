import { describe, expect, it, onTestFinished } from 'vitest';
import { CoherentCache } from '../../src/db/coherent-cache.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';

const CHANNEL = 'test_projections';

describe('CoherentCache', () => {
  it('serves from memory until a NOTIFY, never caches a load that straddled one, and reads through while its connection is lost', async () => {
    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    const cache = new CoherentCache<string>(database.pool, CHANNEL, createLogger('silent'));
    await cache.start();
    onTestFinished(() => cache.close());
    let loads = 0;
    const load = async () => `value ${++loads}`;
    const notify = () => database.pool.query('select pg_notify($1, $2)', [CHANNEL, '31337']);

    expect(await cache.get('a', load)).toBe('value 1');
    expect(await cache.get('a', load)).toBe('value 1');
    expect(loads).toBe(1);

    await notify();
    await until(async () => (await cache.get('a', load)) !== 'value 1', 'the notification', 10_000, 20);
    expect(loads).toBe(2);

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
});
