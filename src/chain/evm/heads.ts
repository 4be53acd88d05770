import { createPublicClient } from 'viem';
import type { HeadWatcher } from '../../core/chain.js';
import { headSignal } from '../../core/head-signal.js';
import { meteredWebSocket, type ChainConnection } from './client.js';

/**
 * Wakes the indexer when a new head arrives: at once through a WebSocket
 * `newHeads` subscription when the chain has one, else by polling.
 */
export function watchHeads(chain: ChainConnection, pollIntervalMs: number): HeadWatcher {
  let unwatch: (() => void) | undefined;
  let closeSocket: (() => void) | undefined;
  const ws = meteredWebSocket(chain);
  // With a subscription, polling is only the fallback if it stalls.
  const signal = headSignal(ws ? Math.max(pollIntervalMs, 2_000) : pollIntervalMs);
  if (ws) {
    const client = createPublicClient({ chain: chain.chain, transport: ws });
    // viem keeps the socket open (and reconnecting) after unsubscribing; close it with the indexer.
    closeSocket = () => void client.transport.getRpcClient().then((socket) => socket.close()).catch(() => {});
    // Over a WebSocket transport viem subscribes to newHeads (no polling).
    unwatch = client.watchBlockNumber({ onBlockNumber: () => signal.notify(), onError: () => {} });
  }
  return {
    /** Resolves on the next head, or after the poll interval (the fallback if the subscription stalls). */
    next: signal.next,
    close() {
      unwatch?.();
      closeSocket?.();
      signal.release();
    },
  };
}
