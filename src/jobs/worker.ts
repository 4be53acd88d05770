import { parseCronItem, run, Logger as WorkerLogger, type ParsedCronItem, type Runner, type Task } from 'graphile-worker';
import type { Logger } from '../runtime/logger.js';

/** A recurring job: `task` on the `cron` schedule (crontab syntax, UTC). */
export interface ScheduledTask {
  task: string;
  cron: string;
  payload?: Record<string, unknown>;
  /** Milliseconds: ticks missed while no worker ran are run when one starts, if no older than this (default 0: skipped). */
  backfillPeriod?: number;
  /** Who defined it (`app reports`), for error messages. */
  owner?: string;
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
    const line = workerLogLine(level, message, { ...scope, ...meta });
    log[line.level](line.fields, line.message);
  });
  const parsedCronItems = parseSchedules(work.tasks, work.schedules ?? []);
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
    parsedCronItems,
    logger,
  });
  log.info({ tasks: Object.keys(work.tasks), schedules: (work.schedules ?? []).map((s) => `${s.task} ${s.cron}`) }, 'worker started');
  return { stop: () => runner.stop() };
}

/**
 * One of graphile-worker's log lines, as ledgersync logs it. A job that
 * succeeds is routine (a schedule alone completes one a minute), so it is a
 * debug line; failures keep their level. The job is named by id, task and
 * attempt, never logged whole: its payload is the app's data.
 */
export function workerLogLine(level: string, message: string, fields: Record<string, unknown>): { level: 'error' | 'warn' | 'info' | 'debug'; message: string; fields: Record<string, unknown> } {
  const job = fields.job as { id?: unknown; task_identifier?: unknown; attempts?: unknown; max_attempts?: unknown } | undefined;
  const compact = job ? { ...fields, job: { id: job.id, task: job.task_identifier, attempt: job.attempts, maxAttempts: job.max_attempts } } : fields;
  if (level === 'error') return { level: 'error', message, fields: compact };
  if (level === 'warning') return { level: 'warn', message, fields: compact };
  if (level === 'info' && !(job && compact.success === true)) return { level: 'info', message, fields: compact };
  return { level: 'debug', message, fields: compact };
}

/**
 * graphile-worker's cron items for these schedules. Refused, naming the schedule
 * and who defined it: a task not in `tasks`, a malformed cron expression or
 * backfill period, and a schedule repeating another (same task, cron and payload). Each item's
 * identifier is how graphile-worker records its last tick in PostgreSQL, so it
 * must be unique and stable across restarts: the task, the cron and the
 * payload (its keys sorted), which tells apart two schedules of one task on
 * one cron with different payloads.
 */
export function parseSchedules(tasks: Record<string, Task>, schedules: ScheduledTask[]): ParsedCronItem[] {
  const identifiers = new Set<string>();
  return schedules.map((s) => {
    const owner = s.owner ?? 'a schedule';
    if (!tasks[s.task]) {
      throw new Error(`${owner} schedules task ${s.task} ('${s.cron}'), which no app registers (tasks: ${Object.keys(tasks).sort().join(', ')})`);
    }
    if (s.backfillPeriod !== undefined && !(s.backfillPeriod >= 0 && Number.isFinite(s.backfillPeriod))) {
      throw new Error(`${owner}: schedule of ${s.task} '${s.cron}': backfillPeriod must be a number of milliseconds, 0 or more`);
    }
    const identifier = s.payload ? `${s.task}@${s.cron} ${canonicalJson(s.payload)}` : `${s.task}@${s.cron}`;
    if (identifiers.has(identifier)) throw new Error(`${owner}: schedule of ${s.task} '${s.cron}' repeats another with the same task, cron and payload`);
    identifiers.add(identifier);
    try {
      return parseCronItem({ task: s.task, match: s.cron, identifier, options: { backfillPeriod: s.backfillPeriod ?? 0 }, ...(s.payload ? { payload: s.payload } : {}) });
    } catch (error) {
      throw new Error(`${owner}: schedule of ${s.task} '${s.cron}': ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** JSON with every object's keys sorted: the same payload written in another order is the same schedule. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
