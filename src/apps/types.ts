import type { Abi, Address, Hex } from 'viem';

/** A contract an app needs on chain: `ledgersync deploy` deploys it and records its address. */
export interface ContractDefinition {
  /** Key in the deployments file, e.g. `BlockProofCredentialVault`. */
  name: string;
  abi: Abi;
  bytecode: Hex;
  constructorArgs(context: { deployer: Address }): readonly unknown[];
}

/**
 * What an app registers with the engine. The engine knows nothing of any app
 * beyond this interface; later issues add indexer sources, intents and routes.
 */
export interface LedgersyncApp {
  name: string;
  contracts: ContractDefinition[];
}
