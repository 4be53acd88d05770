import { parseCronItems, run, Logger as WorkerLogger, type Runner, type Task } from 'graphile-worker';
import type { Logger } from '../runtime/logger.js';

/** A recurring job: `task` on the `cron` schedule (crontab syntax, UTC). */
export interface ScheduledTask {
  task: string;
  cron: string;
  payload?: Record<string, unknown>;
}

/**
 * The job worker (graphile-worker on the same PostgreSQL): the engine's tasks
 * and the apps', and the apps' schedules. Jobs can be queued with SQL inside the
 * caller's own transaction, which is what the outbox needs; a schedule fires once
 * per tick across all workers (graphile-worker keeps the last fire in PostgreSQL).
 */
export async function startWorker(
  databaseUrl: string,
  parentLogger: Logger,
  work: { tasks: Record<string, Task>; schedules?: ScheduledTask[] },
  options: { concurrency?: number; pollInterval?: number } = {},
): Promise<{ stop(): Promise<void> }> {
  const log = parentLogger.child({ role: 'worker' });
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.info(fields, message);
    else log.debug(fields, message);
  });
  const unknown = (work.schedules ?? []).filter((s) => !work.tasks[s.task]);
  if (unknown.length > 0) throw new Error(`schedules name tasks no app registered: ${unknown.map((s) => s.task).join(', ')}`);
  const runner: Runner = await run({
    // Its own small pool: our pools parse int8 as BigInt, which graphile-worker does not expect.
    connectionString: databaseUrl,
    maxPoolSize: 4,
    taskList: work.tasks,
    concurrency: options.concurrency ?? 4,
    // ledgersync owns signal handling, so shutdown happens in one order.
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 1000,
    // Schedules are registered in code, not read from a crontab file.
    parsedCronItems: parseCronItems(
      (work.schedules ?? []).map((s) => ({ task: s.task, match: s.cron, identifier: `${s.task}@${s.cron}`, ...(s.payload ? { payload: s.payload } : {}) })),
    ),
    logger,
  });
  log.info({ tasks: Object.keys(work.tasks), schedules: (work.schedules ?? []).map((s) => `${s.task} ${s.cron}`) }, 'worker started');
  return { stop: () => runner.stop() };
}
