import type { HeadWatcher } from './chain.js';

/**
 * The waiting half of a HeadWatcher, for any family: `notify()` at each head a
 * subscription delivers; `next` resolves at the next one, at once if one came
 * while nobody waited (the indexer was busy), after `timeoutMs` without one (the
 * polling fallback), or soon after `shouldStop` turns true.
 */
export function headSignal(timeoutMs: number): Pick<HeadWatcher, 'next'> & { notify(): void; release(): void } {
  let wake: (() => void) | undefined;
  let missed = false;
  return {
    notify() {
      if (wake) wake();
      else missed = true;
    },
    next(shouldStop) {
      if (missed) {
        missed = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const check = setInterval(() => shouldStop() && done(), 100);
        wake = done;
        function done() {
          clearTimeout(timer);
          clearInterval(check);
          wake = undefined;
          resolve();
        }
      });
    },
    /** Ends a wait in progress (the watcher is closing). */
    release() {
      wake?.();
    },
  };
}
