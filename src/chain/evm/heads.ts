import { createPublicClient } from 'viem';
import type { HeadWatcher } from '../../core/chain.js';
import { meteredWebSocket, type ChainConnection } from './client.js';

/**
 * Wakes the indexer when a new head arrives: at once through a WebSocket
 * `newHeads` subscription when the chain has one, else by polling.
 */
export function watchHeads(chain: ChainConnection, pollIntervalMs: number): HeadWatcher {
  let wake: (() => void) | undefined;
  // A head that arrives while the indexer is busy is remembered, so the next wait returns at once.
  let missed = false;
  const onHead = () => {
    if (wake) wake();
    else missed = true;
  };
  let unwatch: (() => void) | undefined;
  let closeSocket: (() => void) | undefined;
  const ws = meteredWebSocket(chain);
  if (ws) {
    const client = createPublicClient({ chain: chain.chain, transport: ws });
    // viem keeps the socket open (and reconnecting) after unsubscribing; close it with the indexer.
    closeSocket = () => void client.transport.getRpcClient().then((socket) => socket.close()).catch(() => {});
    // Over a WebSocket transport viem subscribes to newHeads (no polling).
    unwatch = client.watchBlockNumber({ onBlockNumber: onHead, onError: () => {} });
  }
  return {
    /** Resolves on the next head, or after the poll interval (the fallback if the subscription stalls). */
    next(shouldStop) {
      if (missed) {
        missed = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ws ? Math.max(pollIntervalMs, 2_000) : pollIntervalMs);
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
    close() {
      unwatch?.();
      closeSocket?.();
      wake?.();
    },
  };
}
