import { createWalletClient, getAddress, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { ChainKey } from '../../core/chain.js';
import type { ChainConnection } from './client.js';
import { findDeployment, recordDeployment, type Deployment } from './deployments.js';
import type { Logger } from '../../runtime/logger.js';

/** A contract an app needs on a chain: `ledgersync deploy` deploys it and records its address. */
export interface ContractDefinition {
  /** Key in the deployments file, e.g. `BlockProofCredentialVault`. */
  name: string;
  chain: ChainKey;
  abi: Abi;
  bytecode: Hex;
  constructorArgs(context: DeployContext): readonly unknown[];
}

/** What a contract's constructor arguments may depend on. */
export interface DeployContext {
  /** The account deploying it. */
  deployer: Address;
  /** The address of a contract listed before it (deployed in this run or kept): registries a factory is built on. */
  deployed(name: string): Address;
  /** The address of this chain's signer with `role` (the relayer key that will call it, e.g. a platform role). */
  signer(role: string): Address;
}

export interface DeployOptions {
  privateKey: `0x${string}`;
  deploymentsFile: string;
  contracts: ContractDefinition[];
  /** Deploy again even where a deployment with code on chain is recorded. */
  force?: boolean;
  /** The chain's relayer signers, for constructor arguments that name one. */
  signers?: Array<{ address: Address; roles: string[] }>;
  logger?: Logger;
}

export interface DeployOutcome {
  name: string;
  action: 'deployed' | 'kept';
  deployment: Deployment;
}

/**
 * Deploys each contract that has no live deployment on this chain and records it.
 * A recorded address without code (a chain that was reset) counts as not deployed.
 */
export async function deployContracts(conn: ChainConnection, options: DeployOptions): Promise<DeployOutcome[]> {
  const account = privateKeyToAccount(options.privateKey);
  const wallet = createWalletClient({ account, chain: conn.chain, transport: conn.transport });
  const outcomes: DeployOutcome[] = [];
  const chain = `evm:${conn.chainId}`;
  // A chain without a base fee (no EIP-1559, as Polygon Edge without London) takes legacy transactions only.
  const latest = await conn.publicClient.getBlock({ blockTag: 'latest' });
  const fees = latest.baseFeePerGas === null || latest.baseFeePerGas === undefined ? { type: 'legacy' as const } : {};
  const addresses = new Map<string, Address>();
  const context: DeployContext = {
    deployer: account.address,
    deployed(name) {
      const address = addresses.get(name);
      if (!address) throw new Error(`a constructor needs ${name} on ${chain}, which is not listed before it (listed so far: ${[...addresses.keys()].join(', ') || 'none'})`);
      return address;
    },
    signer(role) {
      const signer = options.signers?.find((s) => s.roles.includes(role));
      if (!signer) throw new Error(`a constructor needs the signer with role ${role} on ${chain}, and none is configured`);
      return getAddress(signer.address);
    },
  };

  for (const contract of options.contracts) {
    const recorded = findDeployment(options.deploymentsFile, chain, contract.name);
    if (recorded && !options.force && (await hasCode(conn, recorded.address))) {
      outcomes.push({ name: contract.name, action: 'kept', deployment: recorded });
      addresses.set(contract.name, recorded.address);
      continue;
    }
    if (recorded && !options.force) {
      options.logger?.warn({ contract: contract.name, address: recorded.address }, 'recorded address has no code on this chain; deploying again');
    }
    const hash = await wallet.deployContract({
      abi: contract.abi,
      bytecode: contract.bytecode,
      args: contract.constructorArgs(context) as unknown[],
      ...fees,
    });
    const receipt = await conn.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new Error(`deploying ${contract.name} failed in transaction ${hash}`);
    }
    const deployment: Deployment = {
      address: getAddress(receipt.contractAddress),
      blockNumber: Number(receipt.blockNumber),
      transactionHash: hash,
      deployedAt: new Date().toISOString(),
    };
    recordDeployment(options.deploymentsFile, chain, contract.name, deployment);
    addresses.set(contract.name, deployment.address);
    options.logger?.info({ contract: contract.name, address: deployment.address, block: deployment.blockNumber }, 'contract deployed');
    outcomes.push({ name: contract.name, action: 'deployed', deployment });
  }
  return outcomes;
}

export async function hasCode(conn: ChainConnection, address: Address): Promise<boolean> {
  const code = await conn.publicClient.getCode({ address });
  return code !== undefined && code !== '0x';
}
