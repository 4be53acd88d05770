import type pg from 'pg';
import { until } from '../../harness/until.js';

/**
 * Queues `task` (as a schedule or an operator would) and waits for the running
 * worker to finish it: its job row gone. An attempt that failed ends the wait
 * with the job's error rather than a timeout.
 */
export async function runJob(pool: pg.Pool, task: string, timeoutMs = 120_000): Promise<void> {
  const { rows } = await pool.query<{ id: string }>('select (graphile_worker.add_job($1)).id::text as id', [task]);
  const id = rows[0]!.id;
  await until(
    async () => {
      const { rows: jobs } = await pool.query<{ last_error: string | null }>('select last_error from graphile_worker.jobs where id = $1', [id]);
      if (jobs[0]?.last_error) throw new Error(`${task} failed: ${jobs[0].last_error}`);
      return jobs.length === 0;
    },
    `${task} to run`,
    timeoutMs,
  );
}
