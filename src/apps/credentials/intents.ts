import type { IntentKind } from '../../relayer/types.js';
import { credentialVault } from './contract.js';

/** `issueCredential(request)` signed by the relayer's key, which must be an active institution. */
export const issueCredentialIntent: IntentKind = { name: 'credentials.issue', contract: credentialVault.name, abi: credentialVault.abi };

/** `revokeCredential(id, reason)`, by the institution that issued it. */
export const revokeCredentialIntent: IntentKind = { name: 'credentials.revoke', contract: credentialVault.name, abi: credentialVault.abi };

/** `upsertInstitution(account, name, metadataURI, active)`: the relayer's key must hold the vault's admin role. */
export const upsertInstitutionIntent: IntentKind = { name: 'credentials.upsertInstitution', contract: credentialVault.name, abi: credentialVault.abi };
