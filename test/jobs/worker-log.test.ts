import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Task } from 'graphile-worker';
import { loadConfig } from '../../src/config/index.js';
import { startRole } from '../../src/wiring/roles.js';
import { createLogger } from '../../src/runtime/logger.js';
import { scratchDir } from '../harness/cli.js';
import { createTestDatabase } from '../harness/db.js';
import { until } from '../harness/until.js';

/**
 * What the worker role logs of its jobs (src/jobs/worker.ts `workerLogLine`), on
 * real graphile-worker: at the default level a successful job says nothing (a
 * schedule alone completes one a minute), a failing one says which job, task and
 * attempt, and no line carries the job's payload.
 */
describe('the worker log', () => {
  it('is quiet about jobs that succeed, names a failing job by id, task and attempt, and never prints a payload', async () => {
    const database = await createTestDatabase([]);
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger('info', { destination });
    let failures = 0;
    const tasks: Record<string, Task> = {
      'jobs.fine': async () => {},
      'jobs.flaky': async () => {
        failures += 1;
        if (failures === 1) throw new Error('the provider said no');
      },
    };
    const config = loadConfig({ DATABASE_URL: database.url }, scratchDir());
    const role = await startRole({ config, logger, database, project: { apps: [{ name: 'jobs', tasks }], chains: [] }, chains: new Map(), close: async () => {} }, 'worker');
    onTestFinished(async () => {
      await role.stop();
      await database.drop();
    });

    const payload = (n: number) => JSON.stringify({ pushTarget: `device-token-${n}-do-not-log` });
    await database.pool.query(`select graphile_worker.add_job('jobs.fine', $1::json)`, [payload(1)]);
    // Retried at once rather than after graphile-worker's back-off.
    await database.pool.query(`select graphile_worker.add_job('jobs.flaky', $1::json, max_attempts := 3)`, [payload(2)]);
    await until(async () => failures === 1 && (await database.pool.query('select 1 from graphile_worker.jobs')).rowCount === 1, 'the flaky job to fail once');
    await database.pool.query(`update graphile_worker._private_jobs set run_at = now()`);
    await until(async () => (await database.pool.query('select 1 from graphile_worker.jobs')).rowCount === 0, 'both jobs to succeed');

    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    expect(text).not.toContain('do-not-log');
    expect(text).not.toContain('Completed task');
    const failed = lines.filter((l) => String(l.msg).startsWith('Failed task'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, role: 'worker', job: { task: 'jobs.flaky', attempt: 1, maxAttempts: 3 } });
    expect(String(failed[0]!.msg)).toContain('the provider said no');
    expect(lines.some((l) => l.msg === 'worker started')).toBe(true);
  });
});
