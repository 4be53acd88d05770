import { evmSource, type ChainKey, type LedgersyncApp } from '../../engine/index.js';
import { credentialVault, credentialVaultAbi, VAULT } from './contract.js';
import { credentialsProjection, institutionsProjection } from './projections.js';
import { credentialIntents } from './intents.js';
import { credentialRoutes } from './routes.js';
import { credentialWriteRoutes } from './writes.js';
import { credentialCommands } from './commands.js';
import { verificationPage } from './page.js';

export interface CredentialsOptions {
  /** The chain the vault lives on. */
  chain: ChainKey;
  /** Who registers institutions: a signer role or address that holds the vault's admin role (default: the chain's `default` signer). */
  adminSigner?: string;
}

/** BlockProof: institutions issue academic credentials on chain; anyone verifies them. */
export function credentialsApp(options: CredentialsOptions): LedgersyncApp {
  const { chain } = options;
  return {
    name: 'credentials',
    migrations: 'src/apps/credentials/migrations',
    contracts: [credentialVault(chain)],
    sources: [evmSource({ name: 'vault', chain, abi: credentialVaultAbi, contract: VAULT })],
    projections: [institutionsProjection, credentialsProjection],
    intents: credentialIntents(chain),
    commands: credentialCommands,
    async routes(app, context) {
      await credentialRoutes(app, context, chain);
      await credentialWriteRoutes(app, context, chain, options.adminSigner ?? 'default');
      await verificationPage(app, context.publicUrl);
    },
  };
}
