import { createPublicClient, defineChain, http, webSocket, type Chain, type PublicClient } from 'viem';
import { metered } from './transport.js';
import { RpcMeter } from '../../runtime/rpc-meter.js';

export interface ChainConnection {
  chain: Chain;
  chainId: number;
  rpcUrl: string;
  wsUrl: string | undefined;
  /** Counts every call made through `publicClient` (and wallet clients built with `transport`). */
  meter: RpcMeter;
  publicClient: PublicClient;
  /** Same endpoint and meter; concurrent calls are sent as JSON-RPC batches. */
  batchClient: PublicClient;
  /** The metered HTTP transport, for wallet clients. */
  transport: ReturnType<typeof metered>;
}

export class ChainUnreachableError extends Error {
  override name = 'ChainUnreachableError';
}

/**
 * Connects to an EVM JSON-RPC endpoint and learns its chain id. Reads use HTTP;
 * the WebSocket, when given, is for subscriptions (newHeads).
 */
export async function connectChain(rpcUrl: string, wsUrl?: string): Promise<ChainConnection> {
  const meter = new RpcMeter('unknown');
  const transport = metered(http(rpcUrl, { retryCount: 3, timeout: 10_000 }), meter);
  // For many small reads at once (block headers): calls made in the same tick go out as one JSON-RPC
  // batch. Not for eth_getLogs, whose answers are large and are better fetched side by side.
  const batchTransport = metered(http(rpcUrl, { retryCount: 3, timeout: 10_000, batch: { batchSize: 100, wait: 0 } }), meter);
  const probe = createPublicClient({ transport, cacheTime: 0 });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (error) {
    throw new ChainUnreachableError(`RPC endpoint did not answer eth_chainId: ${(error as Error).message.split('\n')[0]}`);
  }
  meter.label = `evm:${chainId}`;
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl], ...(wsUrl ? { webSocket: [wsUrl] } : {}) } },
  });
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0 }) as PublicClient;
  const batchClient = createPublicClient({ chain, transport: batchTransport, cacheTime: 0 }) as PublicClient;
  return { chain, chainId, rpcUrl, wsUrl, meter, publicClient, batchClient, transport };
}

/** A metered WebSocket transport for head subscriptions. */
export function meteredWebSocket(conn: ChainConnection) {
  if (!conn.wsUrl) return undefined;
  return metered(webSocket(conn.wsUrl, { retryCount: 5 }), conn.meter);
}
