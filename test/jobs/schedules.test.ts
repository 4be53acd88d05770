import { describe, expect, it, onTestFinished } from 'vitest';
import type { Task } from 'graphile-worker';
import { inTransaction, type LedgersyncApp, type Schedule } from '../../src/engine/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startRole, type RunningRole } from '../../src/wiring/roles.js';
import { WEBHOOK_TASK } from '../../src/core/relayer/webhooks.js';
import { createLogger } from '../../src/runtime/logger.js';
import { scratchDir } from '../harness/cli.js';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';

/**
 * Apps' tasks and schedules, as the worker role wires them (src/wiring/roles.ts
 * → src/jobs/worker.ts → graphile-worker on the test PostgreSQL): queued jobs
 * run, schedules fire on their minute once across workers, missed ticks are
 * backfilled when a schedule asks for it, and a bad definition is refused.
 */

interface Run {
  task: string;
  payload: Record<string, unknown> & { _cron?: { ts: string; backfilled: boolean } };
}

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database with the engine's migrations, and worker roles on it (stopped, then the database dropped, when the test ends). */
async function jobsWorld() {
  const database = await createTestDatabase([]);
  const running = new Set<RunningRole>();
  onTestFinished(async () => {
    for (const role of running) await role.stop();
    await database.drop();
  });
  const config = loadConfig({ DATABASE_URL: database.url }, scratchDir());
  const runs: Run[] = [];
  return {
    database,
    runs,
    /** Tasks that record each run (which worker ran it, with what payload). */
    recording(names: string[]): Record<string, Task> {
      return Object.fromEntries(
        names.map((name): [string, Task] => [name, async (payload, helpers) => void runs.push({ task: helpers.job.task_identifier, payload: payload as Run['payload'] })]),
      );
    },
    /** `ledgersync worker` for these apps: the engine's and the apps' tasks, the apps' schedules. */
    async worker(apps: LedgersyncApp[]): Promise<{ stop(): Promise<void> }> {
      const role = await startRole({ config, logger: createLogger('silent'), database, project: { apps, chains: [] }, chains: new Map(), close: async () => {} }, 'worker');
      running.add(role);
      return {
        stop: async () => {
          running.delete(role);
          await role.stop();
        },
      };
    },
    /** The schedules graphile-worker knows of in this database (it records each the first time a worker runs it). */
    async knownSchedules(): Promise<Array<{ identifier: string; last_execution: Date | null }>> {
      const { rows } = await database.pool.query('select identifier, last_execution from graphile_worker._private_known_crontabs order by identifier');
      return rows;
    },
  };
}

/** Waits, if the next minute is less than `marginMs` away, until it has begun: what follows then has `marginMs` before a tick. */
async function clearOfTheMinute(marginMs: number): Promise<void> {
  const untilNext = MINUTE - (Date.now() % MINUTE);
  if (untilNext < marginMs) await sleep(untilNext + 100);
}

describe('app tasks and schedules in the worker role', () => {
  it("runs an app's task when the app queues it in its own transaction, and never when that transaction rolls back", async () => {
    const w = await jobsWorld();
    await w.worker([{ name: 'jobs', tasks: w.recording(['jobs.record']) }]);
    const queue = (n: number, then: 'commit' | 'rollback') =>
      inTransaction(w.database.pool, async (client) => {
        await client.query(`select graphile_worker.add_job('jobs.record', json_build_object('n', $1::int))`, [n]);
        if (then === 'rollback') throw new Error('the app changed its mind');
      });
    await queue(1, 'commit');
    await expect(queue(2, 'rollback')).rejects.toThrow('the app changed its mind');
    await queue(3, 'commit');
    await until(() => w.runs.length >= 2, 'the two committed jobs to run');
    // The queue is empty: a job that ran once is gone, the rolled-back one never existed.
    await until(async () => (await w.database.pool.query('select count(*)::int as n from graphile_worker.jobs')).rows[0].n === 0, 'the queue to empty');
    expect(w.runs.map((r) => [r.task, r.payload.n]).sort()).toEqual([
      ['jobs.record', 1],
      ['jobs.record', 3],
    ]);
  });

  it('refuses a schedule naming a task no app registers, naming the app, the schedule and the task', async () => {
    const w = await jobsWorld();
    const app: LedgersyncApp = { name: 'reports', tasks: w.recording(['reports.daily']), schedules: [{ task: 'reports.dialy', cron: '0 6 * * *' }] };
    await expect(w.worker([app])).rejects.toThrow("app reports schedules task reports.dialy ('0 6 * * *'), which no app registers (tasks: ledgersync.webhook, reports.daily)");
  });

  it('refuses a malformed cron expression, naming the app and the schedule', async () => {
    const w = await jobsWorld();
    const app: LedgersyncApp = { name: 'reports', tasks: w.recording(['reports.daily']), schedules: [{ task: 'reports.daily', cron: '0 25 * * *' }] };
    await expect(w.worker([app])).rejects.toThrow(/app reports: schedule of reports\.daily '0 25 \* \* \*': .*hour/i);
  });

  it('refuses a schedule repeating another (same task, cron and payload, keys in any order) and a negative backfill period', async () => {
    const w = await jobsWorld();
    const app = (schedules: Schedule[]): LedgersyncApp => ({ name: 'reports', tasks: w.recording(['reports.daily']), schedules });
    await expect(
      w.worker([
        app([
          { task: 'reports.daily', cron: '0 6 * * *', payload: { region: 'north', format: 'pdf' } },
          { task: 'reports.daily', cron: '0 6 * * *', payload: { format: 'pdf', region: 'north' } },
        ]),
      ]),
    ).rejects.toThrow("app reports: schedule of reports.daily '0 6 * * *' repeats another with the same task, cron and payload");
    await expect(w.worker([app([{ task: 'reports.daily', cron: '0 6 * * *', backfillPeriod: -1 }])])).rejects.toThrow(
      "app reports: schedule of reports.daily '0 6 * * *': backfillPeriod must be a number of milliseconds, 0 or more",
    );
  });

  it("refuses two apps registering one task name, and an app taking the engine's", async () => {
    const w = await jobsWorld();
    const a: LedgersyncApp = { name: 'a', tasks: w.recording(['shared.reconcile']) };
    const b: LedgersyncApp = { name: 'b', tasks: w.recording(['shared.reconcile']) };
    await expect(w.worker([a, b])).rejects.toThrow('task shared.reconcile is registered by both app a and app b');
    const thief: LedgersyncApp = { name: 'thief', tasks: w.recording([WEBHOOK_TASK]) };
    await expect(w.worker([thief])).rejects.toThrow(`task ${WEBHOOK_TASK} is registered by both the engine and app thief`);
  });

  it(
    'fires a schedule on its minute once across two workers; a tick missed while no worker ran is run once when workers start, if the schedule backfills',
    async () => {
      const w = await jobsWorld();
      const tasks = w.recording(['live.tick', 'missed.backfilled', 'missed.skipped']);
      // Two schedules of one task on one cron, told apart by their payloads; and two a deployment will miss.
      const live: LedgersyncApp = {
        name: 'live',
        tasks: { 'live.tick': tasks['live.tick']! },
        schedules: [
          { task: 'live.tick', cron: '* * * * *', payload: { region: 'north' } },
          { task: 'live.tick', cron: '* * * * *', payload: { region: 'south' } },
        ],
      };
      const missed = (schedules: Schedule[]): LedgersyncApp => ({ name: 'missed', tasks: { 'missed.backfilled': tasks['missed.backfilled']!, 'missed.skipped': tasks['missed.skipped']! }, schedules });
      const missedApp = missed([
        { task: 'missed.backfilled', cron: '* * * * *', backfillPeriod: 10 * MINUTE },
        { task: 'missed.skipped', cron: '* * * * *' },
      ]);

      // A first worker of `missed` registers its schedules with graphile-worker, then the deployment goes down, all before the next minute.
      await clearOfTheMinute(20_000);
      const first = await w.worker([missedApp]);
      const known = await until(async () => ((await w.knownSchedules()).length === 2 ? w.knownSchedules() : undefined), 'the schedules to be registered');
      expect(known.map((k) => [k.identifier, k.last_execution])).toEqual([
        ['missed.backfilled@* * * * *', null],
        ['missed.skipped@* * * * *', null],
      ]);
      await first.stop();

      // Two workers of `live` run across the minute: each of its schedules fires once.
      await w.worker([live]);
      await w.worker([live]);
      const tick = new Date(Math.ceil(Date.now() / MINUTE) * MINUTE).toISOString();
      await until(() => w.runs.filter((r) => r.task === 'live.tick').length >= 2, 'the live schedules to fire', 75_000);
      await sleep(2_000);
      expect(w.runs.filter((r) => r.task === 'live.tick').map((r) => r.payload).sort((x, y) => String(x.region).localeCompare(String(y.region)))).toEqual([
        { region: 'north', _cron: { ts: tick, backfilled: false } },
        { region: 'south', _cron: { ts: tick, backfilled: false } },
      ]);
      // Nothing of `missed` ran at that tick: no worker of it was up.
      expect(w.runs.filter((r) => r.task.startsWith('missed.'))).toEqual([]);

      // `missed` comes back, on two workers, before the next minute: the tick it missed is run once, and only where the schedule backfills.
      await w.worker([missedApp]);
      await w.worker([missedApp]);
      await until(() => w.runs.some((r) => r.task === 'missed.backfilled'), 'the missed tick to be backfilled', 10_000);
      await sleep(2_000);
      expect(Date.now() - Date.parse(tick)).toBeLessThan(MINUTE);
      expect(w.runs.filter((r) => r.task.startsWith('missed.')).map((r) => [r.task, r.payload])).toEqual([['missed.backfilled', { _cron: { ts: tick, backfilled: true } }]]);
      expect((await w.knownSchedules()).find((k) => k.identifier === 'missed.skipped@* * * * *')!.last_execution).toBeNull();
    },
    150_000,
  );
});
