import { connectChain } from '../../src/chain/evm/client.js';
import { connectEvmChain, type EvmChain } from '../../src/chain/evm/chain.js';
import type { EvmChainConfig } from '../../src/config/chains.js';

export interface TestChainOptions {
  deploymentsFile: string;
  wsUrl?: string | undefined;
  finalityDepth?: number;
  pollIntervalMs?: number;
  concurrency?: number;
  maxBlockRange?: number;
  rpcTimeoutMs?: number;
  gas?: Partial<EvmChainConfig['gas']>;
  signers?: EvmChainConfig['signers'];
}

/** A chain of the deployment as the wiring connects it (key from the node), with test-friendly defaults. */
export async function connectTestChain(rpcUrl: string, options: TestChainOptions): Promise<EvmChain> {
  const key = `evm:${(await connectChain(rpcUrl)).chainId}`;
  const config: EvmChainConfig & { key: string } = {
    family: 'evm',
    key,
    endpoint: { kind: 'rpc', rpcUrl, wsUrl: options.wsUrl },
    rpcTimeoutMs: options.rpcTimeoutMs ?? 10_000,
    finalityDepth: options.finalityDepth ?? 32,
    pollIntervalMs: options.pollIntervalMs ?? 100,
    concurrency: options.concurrency ?? 4,
    maxBlockRange: options.maxBlockRange ?? 10_000,
    gas: { type: 'auto', maxFeePerGas: 500_000_000_000n, bumpPercent: 15, ...options.gas },
    signers: options.signers ?? [],
    deployerPrivateKey: undefined,
  };
  return connectEvmChain(config, { rpcUrl, wsUrl: options.wsUrl }, options.deploymentsFile);
}
