import type { LedgersyncApp } from '../types.js';
import { credentialVault } from './contract.js';
import { credentialsProjection, institutionsProjection } from './projections.js';
import { issueCredentialIntent, revokeCredentialIntent, upsertInstitutionIntent } from './intents.js';
import { credentialRoutes } from './routes.js';
import { credentialWriteRoutes } from './writes.js';
import { credentialCommands } from './commands.js';
import { verificationPage } from './page.js';

/** BlockProof: institutions issue academic credentials on chain; anyone verifies them. */
export const credentialsApp: LedgersyncApp = {
  name: 'credentials',
  contracts: [credentialVault],
  sources: [{ contract: credentialVault.name, abi: credentialVault.abi }],
  projections: [institutionsProjection, credentialsProjection],
  intents: [issueCredentialIntent, revokeCredentialIntent, upsertInstitutionIntent],
  commands: credentialCommands,
  async routes(app, context) {
    await credentialRoutes(app, context);
    await credentialWriteRoutes(app, context);
    await verificationPage(app, context.publicUrl);
  },
};
