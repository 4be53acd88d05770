import type { Address } from 'viem';
import type { ChainKey } from '../core/chain.js';
import type { Outbox } from '../core/relayer/outbox.js';
import type { CommandPorts } from '../engine/app.js';
import type { Config } from '../config/index.js';
import type { Project } from './project.js';
import type { DeploymentChain } from './stack.js';
import { connectEvmChain } from '../chain/evm/chain.js';
import { connectSuiChain } from '../chain/sui/chain.js';
import { findDeployment } from '../chain/evm/deployments.js';
import type { Logger } from '../runtime/logger.js';
import { chainReaders, deploymentOutbox } from './roles.js';

/** What `withChains` gives a command besides the database. */
export type CommandChains = Omit<CommandPorts, 'pool' | 'logger'>;

/**
 * The configured chains for a one-shot command, started nowhere: a chain
 * reached by URL as configured, an embedded one where the running `ledgersync
 * start` serves it (its port). A chain that does not answer is left out, and
 * `unreachable` says why; the outbox takes intents for the chains that answered
 * (a running worker sends them).
 */
export async function commandChains(config: Config, project: Project, logger: Logger): Promise<CommandChains & { close(): Promise<void> }> {
  const connected = new Map<ChainKey, DeploymentChain>();
  const unreachable = new Map<ChainKey, string>();
  for (const chain of project.chains) {
    const embedded = chain.endpoint.kind === 'embedded';
    try {
      if (chain.family === 'sui') {
        const url = chain.endpoint.kind === 'grpc' ? chain.endpoint.url : `http://127.0.0.1:${chain.endpoint.port}`;
        connected.set(chain.key, await connectSuiChain(chain, url, logger));
      } else {
        const rpcUrl = chain.endpoint.kind === 'rpc' ? chain.endpoint.rpcUrl : `http://127.0.0.1:${chain.endpoint.port}`;
        connected.set(chain.key, await connectEvmChain(chain, { rpcUrl }, config.deploymentsFile));
      }
    } catch (error) {
      const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      unreachable.set(chain.key, embedded ? `the embedded chain is not running (${why}): it runs while ledgersync start does` : why);
    }
  }
  const chains = [...connected.values()];
  const outbox: Outbox = await deploymentOutbox({ chains: connected, project });
  return {
    ...chainReaders(chains.flatMap((c) => (c.family === 'evm' ? [c] : [])), chains.flatMap((c) => (c.family === 'sui' ? [c] : []))),
    outbox,
    deployment: (chain: ChainKey, contract: string): Address | undefined => findDeployment(config.deploymentsFile, chain, contract)?.address,
    rpcCalls: (chain) => {
      const found = connected.get(chain);
      return found ? found.conn.meter.totalCalls() : 0;
    },
    unreachable: (chain) => unreachable.get(chain),
    close: async () => {
      for (const chain of chains) await chain.close();
    },
  };
}
