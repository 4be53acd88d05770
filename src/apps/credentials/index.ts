import type { LedgersyncApp } from '../types.js';
import { credentialVault } from './contract.js';
import { credentialsProjection, institutionsProjection } from './projections.js';
import { issueCredentialIntent, revokeCredentialIntent } from './intents.js';
import { credentialRoutes } from './routes.js';

/** BlockProof: institutions issue academic credentials on chain; anyone verifies them. */
export const credentialsApp: LedgersyncApp = {
  name: 'credentials',
  contracts: [credentialVault],
  sources: [{ contract: credentialVault.name, abi: credentialVault.abi }],
  projections: [institutionsProjection, credentialsProjection],
  intents: [issueCredentialIntent, revokeCredentialIntent],
  routes: credentialRoutes,
};
