import { run, Logger as WorkerLogger, type Runner, type TaskList } from 'graphile-worker';
import type { Logger } from '../runtime/logger.js';

/**
 * The job worker (graphile-worker on the same PostgreSQL). Jobs can be queued
 * with SQL inside the caller's own transaction, which is what the outbox needs.
 */
export async function startWorker(databaseUrl: string, parentLogger: Logger, taskList: TaskList, options: { concurrency?: number; pollInterval?: number } = {}): Promise<{ stop(): Promise<void> }> {
  const log = parentLogger.child({ role: 'worker' });
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { ...scope, ...meta };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.info(fields, message);
    else log.debug(fields, message);
  });
  const runner: Runner = await run({
    // Its own small pool: our pools parse int8 as BigInt, which graphile-worker does not expect.
    connectionString: databaseUrl,
    maxPoolSize: 4,
    taskList,
    concurrency: options.concurrency ?? 4,
    // ledgersync owns signal handling, so shutdown happens in one order.
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 1000,
    // Schedules are registered in code, not read from a crontab file.
    parsedCronItems: [],
    logger,
  });
  log.info({ tasks: Object.keys(taskList) }, 'worker started');
  return { stop: () => runner.stop() };
}
