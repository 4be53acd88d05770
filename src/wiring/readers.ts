import type { Address } from 'viem';
import type { ChainKey } from '../core/chain.js';
import type { ChainReaders, EvmChainReader, SuiChainReader } from '../engine/app.js';
import type { Config } from '../config/index.js';
import type { Project } from './project.js';
import { connectChain } from '../chain/evm/client.js';
import { connectSui } from '../chain/sui/client.js';
import { findDeployment } from '../chain/evm/deployments.js';

/** Reading ports, and what they made one-shot commands count (RPC calls per chain). */
export interface CommandChains extends ChainReaders {
  deployment(chain: ChainKey, contract: string): Address | undefined;
  /** RPC calls made so far through the readers of a chain. */
  rpcCalls(chain: ChainKey): number;
  /** Why a configured chain has no reader (its node did not answer), if it has none. */
  unreachable(chain: ChainKey): string | undefined;
}

/**
 * The configured chains' reading ports for a one-shot command, started
 * nowhere: a chain reached by URL as configured, an embedded one where the
 * running `ledgersync start` serves it (its port). A chain that does not
 * answer fails only the reads that go to it, with the node's reason.
 */
export async function commandChains(config: Config, project: Project): Promise<CommandChains> {
  const chains = new Map<ChainKey, EvmChainReader>();
  const suiChains = new Map<ChainKey, SuiChainReader>();
  const meters = new Map<ChainKey, { totalCalls(): number }>();
  const unreachable = new Map<ChainKey, string>();
  for (const chain of project.chains) {
    if (chain.family === 'sui') {
      const url = chain.endpoint.kind === 'grpc' ? chain.endpoint.url : `http://127.0.0.1:${chain.endpoint.port}`;
      const conn = connectSui(url, chain.key);
      suiChains.set(chain.key, { key: chain.key, client: conn.client });
      meters.set(chain.key, conn.meter);
      continue;
    }
    const rpcUrl = chain.endpoint.kind === 'rpc' ? chain.endpoint.rpcUrl : `http://127.0.0.1:${chain.endpoint.port}`;
    try {
      const conn = await connectChain(rpcUrl, undefined, { rpcTimeoutMs: chain.rpcTimeoutMs });
      chains.set(chain.key, { key: chain.key, chainId: conn.chainId, client: conn.publicClient });
      meters.set(chain.key, conn.meter);
    } catch (error) {
      // Not answering (an embedded chain while nothing runs): the command says so when it reads it.
      const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      unreachable.set(chain.key, chain.endpoint.kind === 'embedded' ? `the embedded chain is not running (${why}): it runs while ledgersync start does` : why);
    }
  }
  return {
    chains,
    suiChains,
    deployment: (chain, contract) => findDeployment(config.deploymentsFile, chain, contract)?.address,
    rpcCalls: (chain) => meters.get(chain)?.totalCalls() ?? 0,
    unreachable: (chain) => unreachable.get(chain),
  };
}
