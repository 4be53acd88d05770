import cliProgress from 'cli-progress';
import type { Logger } from '../runtime/logger.js';

/**
 * Backfill progress: a bar on a terminal (blocks, events/s, ETA), else a log
 * line every few seconds, so long work is never silent.
 */
export function backfillProgress(logger: Logger, from: bigint, to: bigint, options: { tty?: boolean; intervalMs?: number } = {}) {
  const total = Number(to - from + 1n);
  const started = Date.now();
  let events = 0;
  let done = 0;
  const rate = () => Math.round(events / Math.max(0.001, (Date.now() - started) / 1000));
  const eta = () => (done === 0 ? undefined : Math.round(((Date.now() - started) / done) * (total - done) / 1000));

  if (options.tty ?? process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'backfill [{bar}] {percentage}% | block {value}/{total} | {events} events, {rate} ev/s | ETA {eta}s', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { events: 0, rate: 0 });
    return {
      update(block: bigint, newEvents: number) {
        events += newEvents;
        done = Number(block - from + 1n);
        bar.update(done, { events, rate: rate() });
      },
      stop: () => bar.stop(),
    };
  }

  const intervalMs = options.intervalMs ?? 5_000;
  let lastLog = 0;
  logger.info({ from: Number(from), to: Number(to), blocks: total }, 'backfill started');
  return {
    update(block: bigint, newEvents: number) {
      events += newEvents;
      done = Number(block - from + 1n);
      if (Date.now() - lastLog >= intervalMs || done === total) {
        lastLog = Date.now();
        logger.info({ block: Number(block), to: Number(to), percent: Math.floor((done / total) * 100), events, eventsPerSecond: rate(), etaSeconds: eta() }, 'backfill progress');
      }
    },
    stop() {
      logger.info({ blocks: done, events, seconds: (Date.now() - started) / 1000, eventsPerSecond: rate() }, 'backfill finished');
    },
  };
}
