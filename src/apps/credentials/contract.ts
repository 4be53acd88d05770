import type { ChainKey, ContractDefinition } from '../../engine/index.js';
import { blockProofCredentialVaultAbi, blockProofCredentialVaultBytecode } from '../../../contracts/artifacts/BlockProofCredentialVault.js';

export const credentialVaultAbi = blockProofCredentialVaultAbi;
export const VAULT = 'BlockProofCredentialVault';

/** The vault's admin (who registers institutions) is the deploying account. */
export function credentialVault(chain: ChainKey): ContractDefinition {
  return { name: VAULT, chain, abi: blockProofCredentialVaultAbi, bytecode: blockProofCredentialVaultBytecode, constructorArgs: ({ deployer }) => [deployer] };
}
