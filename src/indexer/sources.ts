import type { Abi, Address } from 'viem';
import type { LedgersyncApp } from '../apps/types.js';
import { findDeployment } from '../chain/evm/deployments.js';
import type { Projection } from './types.js';

export class MissingDeploymentError extends Error {
  override name = 'MissingDeploymentError';
}

/** The addresses, ABIs and start block to index on a chain, from the apps' sources and the deployments file. */
export function resolveSources(apps: LedgersyncApp[], deploymentsFile: string, chainId: number) {
  const abiByAddress = new Map<string, Abi>();
  let startBlock: bigint | undefined;
  for (const source of apps.flatMap((app) => app.sources)) {
    const deployment = findDeployment(deploymentsFile, chainId, source.contract);
    if (!deployment) {
      throw new MissingDeploymentError(`${source.contract} has no deployment for chain ${chainId} in ${deploymentsFile}; run ledgersync deploy or record its address`);
    }
    abiByAddress.set(deployment.address.toLowerCase(), source.abi);
    const start = BigInt(deployment.blockNumber);
    if (startBlock === undefined || start < startBlock) startBlock = start;
  }
  const projections: Projection[] = apps.flatMap((app) => app.projections);
  return { abiByAddress, addresses: [...abiByAddress.keys()] as Address[], startBlock: startBlock ?? 0n, projections };
}
