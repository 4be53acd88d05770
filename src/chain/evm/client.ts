import { createPublicClient, defineChain, http, webSocket, type Chain, type PublicClient } from 'viem';
import { metered, namingTimeouts } from './transport.js';
import { RpcMeter } from '../../runtime/rpc-meter.js';

export interface ChainConnection {
  chain: Chain;
  chainId: number;
  rpcUrl: string;
  wsUrl: string | undefined;
  /** How long one JSON-RPC request waits for its answer. */
  rpcTimeoutMs: number;
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

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;
const RETRIES = 3;
const WS_RETRIES = 5;

/**
 * Connects to an EVM JSON-RPC endpoint and learns its chain id. Reads use HTTP;
 * the WebSocket, when given, is for subscriptions (newHeads). Each request waits
 * `rpcTimeoutMs` for its answer; one that times out is tried again, up to 3 times
 * (viem's retries), before the call fails with an RpcTimeoutError.
 */
export async function connectChain(rpcUrl: string, wsUrl?: string, options: { rpcTimeoutMs?: number } = {}): Promise<ChainConnection> {
  const rpcTimeoutMs = options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const meter = new RpcMeter('unknown');
  const transport = metered(namingTimeouts(http(rpcUrl, { retryCount: RETRIES, timeout: rpcTimeoutMs }), rpcTimeoutMs, RETRIES + 1), meter);
  // For many small reads at once (block headers): calls made in the same tick go out as one JSON-RPC
  // batch. Not for eth_getLogs, whose answers are large and are better fetched side by side.
  const batchTransport = metered(
    namingTimeouts(http(rpcUrl, { retryCount: RETRIES, timeout: rpcTimeoutMs, batch: { batchSize: 100, wait: 0 } }), rpcTimeoutMs, RETRIES + 1),
    meter,
  );
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
  return { chain, chainId, rpcUrl, wsUrl, rpcTimeoutMs, meter, publicClient, batchClient, transport };
}

/** A metered WebSocket transport for head subscriptions. */
export function meteredWebSocket(conn: ChainConnection) {
  if (!conn.wsUrl) return undefined;
  return metered(namingTimeouts(webSocket(conn.wsUrl, { retryCount: WS_RETRIES, timeout: conn.rpcTimeoutMs }), conn.rpcTimeoutMs, WS_RETRIES + 1), conn.meter);
}
