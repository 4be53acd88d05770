import type { ContractDefinition } from '../types.js';
import { blockProofCredentialVaultAbi, blockProofCredentialVaultBytecode } from '../../../contracts/artifacts/BlockProofCredentialVault.js';

export const credentialVaultAbi = blockProofCredentialVaultAbi;

/** The vault's admin (who registers institutions) is the deploying account. */
export const credentialVault: ContractDefinition = {
  name: 'BlockProofCredentialVault',
  abi: blockProofCredentialVaultAbi,
  bytecode: blockProofCredentialVaultBytecode,
  constructorArgs: ({ deployer }) => [deployer],
};
