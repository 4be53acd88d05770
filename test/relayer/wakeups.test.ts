import { describe, expect, it } from 'vitest';
import { ledgerRelayerWorld } from '../harness/ledger-relayer.js';
import { until } from '../harness/until.js';

/**
 * How relayers hear of new intents (src/core/relayer/wakeups.ts): the outbox
 * NOTIFYs at commit and every relayer on a pool shares one LISTEN connection.
 * The relayers here poll once a minute, so an intent sent within seconds was
 * sent because the relayer was woken.
 */
describe('relayer wake-ups', () => {
  it('wakes every relayer of a process through one LISTEN connection, and again after that connection is killed', async () => {
    const w = await ledgerRelayerWorld({ blockTime: 0.5 });
    const listeners = async () =>
      (
        await w.database.pool.query<{ pid: number }>(
          "select pid from pg_stat_activity where datname = current_database() and query = 'listen ledgersync_intents' and pid <> pg_backend_pid()",
        )
      ).rows.map((r) => r.pid);
    const slow = { pollIntervalMs: 60_000 };
    await w.startRelayer(slow);
    await w.startRelayer(slow);
    await w.startRelayer(slow);
    const [first] = await until(async () => ((await listeners()).length > 0 ? await listeners() : undefined), 'the LISTEN connection');
    expect(await listeners()).toEqual([first]);

    const sentWithin = async (key: string) => {
      const started = Date.now();
      await w.submit([w.write(key)]);
      await until(async () => ['broadcast', 'included', 'confirmed'].includes((await w.intent(key)).state), `${key} to be sent`, 10_000);
      return Date.now() - started;
    };
    expect(await sentWithin('woken')).toBeLessThan(10_000);

    // The LISTEN connection dies (a restart of PostgreSQL's backend, a firewall): a new one takes its place.
    await w.database.pool.query('select pg_terminate_backend($1)', [first]);
    const [second] = await until(async () => {
      const now = await listeners();
      return now.length === 1 && now[0] !== first ? now : undefined;
    }, 'a new LISTEN connection', 15_000);
    expect(second).not.toBe(first);
    expect(await sentWithin('woken-again')).toBeLessThan(10_000);
  });
});
