import type { GrpcTypes, SuiGrpcClient } from '@mysten/sui/grpc';
import type { HeadWatcher } from '../../core/chain.js';
import { headSignal } from '../../core/head-signal.js';
import { CHECKPOINT_MASK } from './indexer/decode.js';

/** How many of the latest checkpoints the subscription keeps for the reader. */
const KEPT = 256;
const RESUBSCRIBE_MIN_MS = 250;
const RESUBSCRIBE_MAX_MS = 10_000;

/** The checkpoints the live subscription delivered, latest last, for the reader to take instead of asking again. */
export interface RecentCheckpoints {
  get(sequence: bigint): GrpcTypes.Checkpoint | undefined;
}

/**
 * The live side of a Sui chain: one SubscribeCheckpoints stream with the
 * indexer's read mask, waking the indexer at each checkpoint and keeping the
 * latest ones in memory. The stream cannot resume from a cursor: when it drops
 * it is opened again (backing off), and the checkpoints it missed are read by
 * the indexer with ListCheckpoints from its own checkpoint on, so a drop leaves
 * no gap. Without the subscription the indexer still polls.
 */
export function followCheckpoints(client: SuiGrpcClient, pollIntervalMs: number, onError: (error: Error) => void): HeadWatcher & { recent: RecentCheckpoints } {
  const kept = new Map<bigint, GrpcTypes.Checkpoint>();
  const signal = headSignal(pollIntervalMs);
  let closed = false;
  let abort: AbortController | undefined;

  const subscribe = async () => {
    let delay = RESUBSCRIBE_MIN_MS;
    while (!closed) {
      abort = new AbortController();
      try {
        const call = client.subscriptionService.subscribeCheckpoints({ readMask: { paths: CHECKPOINT_MASK } }, { abort: abort.signal });
        for await (const message of call.responses) {
          const checkpoint = message.checkpoint;
          if (!checkpoint?.sequenceNumber && checkpoint?.sequenceNumber !== 0n) continue;
          delay = RESUBSCRIBE_MIN_MS;
          kept.set(checkpoint.sequenceNumber, checkpoint);
          if (kept.size > KEPT) kept.delete(kept.keys().next().value!);
          signal.notify();
        }
      } catch (error) {
        if (closed) return;
        onError(error as Error);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, RESUBSCRIBE_MAX_MS);
    }
  };
  void subscribe();

  return {
    recent: { get: (sequence) => kept.get(sequence) },
    /** Resolves on the next checkpoint, or after the poll interval (the fallback while the stream is down). */
    next: signal.next,
    close() {
      closed = true;
      abort?.abort();
      signal.release();
    },
  };
}
