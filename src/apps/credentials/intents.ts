import { evmIntent, type ChainKey, type IntentKind } from '../../engine/index.js';
import { credentialVaultAbi, VAULT } from './contract.js';

/**
 * What BlockProof writes, all to the vault: `issueCredential(request)` and
 * `revokeCredential(id, reason)` signed by the institution's own key (it must be
 * active in the vault), `upsertInstitution(…)` by a key holding the vault's admin role.
 */
export function credentialIntents(chain: ChainKey): IntentKind[] {
  return [
    evmIntent({ name: 'credentials.issue', chain, abi: credentialVaultAbi, contract: VAULT }),
    evmIntent({ name: 'credentials.revoke', chain, abi: credentialVaultAbi, contract: VAULT }),
    evmIntent({ name: 'credentials.upsertInstitution', chain, abi: credentialVaultAbi, contract: VAULT }),
  ];
}
