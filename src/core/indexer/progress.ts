import cliProgress from 'cli-progress';
import type { Logger } from '../../runtime/logger.js';

export interface ProgressOptions {
  /** What is being done, e.g. `backfill` or `reindex institutions`. */
  label: string;
  /** Units of work in all (blocks for a backfill, events for a replay). */
  total: number;
  unit: string;
  tty?: boolean;
  intervalMs?: number;
}

/**
 * Progress of long work: a bar on a terminal (done/total, events/s, ETA), else a
 * log line every few seconds, so that it is never silent.
 */
export function reportProgress(logger: Logger, options: ProgressOptions) {
  const started = Date.now();
  let events = 0;
  let done = 0;
  const rate = () => Math.round(events / Math.max(0.001, (Date.now() - started) / 1000));
  const eta = () => (done === 0 ? undefined : Math.round((((Date.now() - started) / done) * (options.total - done)) / 1000));

  if (options.tty ?? process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {events} events, {rate} ev/s | ETA {eta}s`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0, { events: 0, rate: 0 });
    return {
      update(newDone: number, newEvents: number) {
        events += newEvents;
        done = newDone;
        bar.update(done, { events, rate: rate() });
      },
      stop: () => bar.stop(),
    };
  }

  const intervalMs = options.intervalMs ?? 5_000;
  let lastLog = Date.now();
  logger.info({ total: options.total, unit: options.unit }, `${options.label} started`);
  return {
    update(newDone: number, newEvents: number) {
      events += newEvents;
      done = newDone;
      if (Date.now() - lastLog >= intervalMs) {
        lastLog = Date.now();
        logger.info({ done, total: options.total, unit: options.unit, percent: Math.floor((done / options.total) * 100), events, eventsPerSecond: rate(), etaSeconds: eta() }, `${options.label} progress`);
      }
    },
    stop() {
      logger.info({ done, unit: options.unit, events, seconds: (Date.now() - started) / 1000, eventsPerSecond: rate() }, `${options.label} finished`);
    },
  };
}
